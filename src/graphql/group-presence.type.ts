import { Field, Int, ObjectType } from 'type-graphql';
import { Device } from './device.type';

@ObjectType({ description: 'How many devices of a group are online, from the client status notices.', simpleResolvers: true })
export class GroupPresence {
  @Field(() => Int, { description: 'Devices of the group online now, as the notices (and the batch answers that seeded them) say.' })
  online!: number;

  @Field(() => Int, { description: 'Devices of the group this service has seen at all: a device never seen is in neither count.' })
  known!: number;

  @Field(() => Boolean, {
    description: 'False while start-up or a gap in the notices leaves some device\'s status unconfirmed (the counts may be off until the verifier or fresh notices confirm them).',
  })
  complete!: boolean;
}

@ObjectType({ description: 'Relay page information.', simpleResolvers: true })
export class PageInfo {
  @Field(() => Boolean, { description: 'Whether more devices follow this page.' })
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page.' })
  endCursor!: string | null;
}

@ObjectType({ description: 'One device of a page (Relay edge).', simpleResolvers: true })
export class DeviceEdge {
  @Field(() => String, { description: 'Where this device stands in the list: pass as `after` to continue after it.' })
  cursor!: string;

  @Field(() => Device, { description: 'The device, with its status from the notices (its `online` needs no lookup).' })
  node!: Device;
}

@ObjectType({ description: 'A page of devices (Relay connection).', simpleResolvers: true })
export class DeviceConnection {
  @Field(() => [DeviceEdge], { description: 'The devices of this page, in the list\'s stable order.' })
  edges!: DeviceEdge[];

  @Field(() => PageInfo, { description: 'Whether and where the list continues.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Devices in the whole list, not only this page.' })
  totalCount!: number;
}
