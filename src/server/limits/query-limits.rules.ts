import {
  GraphQLError,
  Kind,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { CostLimits } from '../../config';

/**
 * Validation rules that bound what one document may ask of the server, checked before anything
 * runs (so before any upstream call). Apollo reports their errors as GRAPHQL_VALIDATION_FAILED,
 * HTTP 400. The token limit is not here: it is Apollo's `parseOptions.maxTokens`, which stops the
 * parser itself, before a huge document is even turned into an AST.
 *
 * Aliases and directives are counted as written in the document (a fragment once, however often it
 * is spread): identical spreads merge into the same response keys, so writing is what multiplies.
 */
export function queryLimitRules(limits: Pick<CostLimits, 'maxDepth' | 'maxAliases' | 'maxDirectives'>): ValidationRule[] {
  return [maxDepthRule(limits.maxDepth), maxAliasesRule(limits.maxAliases), maxDirectivesRule(limits.maxDirectives)];
}

function maxAliasesRule(max: number): ValidationRule {
  return (context) => {
    let aliases = 0;
    return {
      Field(field) {
        if (field.alias) aliases++;
      },
      Document: { leave: () => reportOver(context, aliases, max, 'aliases', 'MAX_QUERY_ALIASES') },
    };
  };
}

function maxDirectivesRule(max: number): ValidationRule {
  return (context) => {
    let directives = 0;
    return {
      Directive() {
        directives++;
      },
      Document: { leave: () => reportOver(context, directives, max, 'directives', 'MAX_QUERY_DIRECTIVES') },
    };
  };
}

function reportOver(context: ValidationContext, count: number, max: number, what: string, setting: string): void {
  if (count > max) context.reportError(new GraphQLError(`This document has ${count} ${what}; at most ${max} are allowed (${setting})`));
}

/**
 * Field nesting per operation, through fragments. Introspection fields are left out: introspection
 * has its own switch (INTROSPECTION), GraphiQL's standard query is deeper than any real one, and
 * the token limit bounds it anyway.
 */
function maxDepthRule(maxDepth: number): ValidationRule {
  return (context) => {
    // Per document: each fragment's depth is worked out once, however often it is spread. Walking a
    // fragment at every spread costs 2^n for n fragments that each spread the next twice: a query
    // of a few hundred tokens would block the event loop for hours.
    const fragmentDepths = new Map<string, number>();
    return {
      OperationDefinition(operation) {
        const depth = depthOf(operation.selectionSet, context, fragmentDepths, new Set());
        if (depth > maxDepth) {
          context.reportError(new GraphQLError(`This operation nests fields ${depth} deep; at most ${maxDepth} are allowed (MAX_QUERY_DEPTH)`));
        }
      },
    };
  };
}

/** The depth of a selection set, through fragments (each measured once) and no fragment cycle. */
function depthOf(selectionSet: SelectionSetNode, context: ValidationContext, fragmentDepths: Map<string, number>, onPath: Set<string>): number {
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    let depth: number | undefined = 0;
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__') && selection.name.value !== '__typename') continue;
      depth = 1 + (selection.selectionSet ? depthOf(selection.selectionSet, context, fragmentDepths, onPath) : 0);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      depth = depthOf(selection.selectionSet, context, fragmentDepths, onPath);
    } else {
      const name = selection.name.value;
      depth = fragmentDepths.get(name);
      if (depth === undefined) {
        const fragment: FragmentDefinitionNode | null | undefined = context.getFragment(name);
        if (!fragment || onPath.has(name)) continue; // unknown or cyclic: other rules report it
        onPath.add(name);
        depth = depthOf(fragment.selectionSet, context, fragmentDepths, onPath);
        onPath.delete(name);
        fragmentDepths.set(name, depth);
      }
    }
    deepest = Math.max(deepest, depth);
  }
  return deepest;
}
