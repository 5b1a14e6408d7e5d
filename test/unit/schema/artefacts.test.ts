import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildSchema, isEnumType, isInterfaceType, isObjectType } from 'graphql';
import { buildClientSdl, buildPresenceSdl } from '../../../src/graphql/schema';

const root = join(__dirname, '..', '..', '..');

describe('schema artefacts', () => {
  it('schema/schema.graphql is exactly what the code emits (run `npm run schema` when this fails)', async () => {
    const committed = readFileSync(join(root, 'schema', 'schema.graphql'), 'utf8');
    expect(committed).toBe(await buildPresenceSdl());
  });

  it('keeps the federation directives in the emitted schema', async () => {
    const sdl = await buildPresenceSdl();
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.3"');
    expect(sdl).toMatch(/type Device implements Node @key\(fields: "clientId"\) @key\(fields: "instanceId clientId"\)/);
  });

  it('schema/client-schema.graphql is exactly what the code emits (run `npm run schema` when this fails)', async () => {
    const committed = readFileSync(join(root, 'schema', 'client-schema.graphql'), 'utf8');
    expect(committed).toBe(await buildClientSdl());
  });

  it('ships a client schema plain tools load: no federation internals, and it builds with graphql-js alone', () => {
    const sdl = readFileSync(join(root, 'schema', 'client-schema.graphql'), 'utf8');
    for (const internal of ['@link', '@key', '_entities', '_service', '_Any', '_Entity', 'FieldSet']) expect(sdl).not.toContain(internal);
    const schema = buildSchema(sdl); // throws on an unknown directive, as graphql-inspector and graphql-eslint do
    expect(schema.getQueryType()?.getFields()).toHaveProperty('node');
  });

  it('describes every type, field, argument and enum value of the client schema (root types aside)', () => {
    const schema = buildSchema(readFileSync(join(root, 'schema', 'client-schema.graphql'), 'utf8'));
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Boolean', 'Int', 'ID', 'Float'].includes(type.name)) continue;
      if (!type.description && !['Query', 'Subscription'].includes(type.name)) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of field.args) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isEnumType(type)) for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
    }
    expect(missing).toEqual([]);
  });

  it('types the DateTimeISO scalar as a string in generated/', () => {
    expect(readFileSync(join(root, 'generated', 'graphql.ts'), 'utf8')).toMatch(/DateTimeISO: \{ input: string; output: string; \}/);
  });

  it('generated/ is what GraphQL Code Generator makes of schema/ (run `npm run codegen` when this fails)', async () => {
    const cli = join(root, 'node_modules', '.bin', 'graphql-codegen');
    await expect(promisify(execFile)(cli, ['--config', 'codegen.yml', '--check'], { cwd: root })).resolves.toBeDefined();
  });
});
