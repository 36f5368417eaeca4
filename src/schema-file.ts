import 'reflect-metadata';
import { lexicographicSortSchema, printSchema } from 'graphql';
import path from 'node:path';
import { buildAppSchema } from './platform/graphql/build-schema';
import { resolverClasses } from './modules';

export const SCHEMA_FILE = path.resolve(__dirname, '..', 'schema', 'schema.graphql');

/** The schema as SDL, sorted so that the checked-in file diffs cleanly. */
export async function printAppSchema(): Promise<string> {
  const schema = await buildAppSchema(resolverClasses);
  return `# Generated from the code by \`npm run schema\`; do not edit. A test fails when it is stale.\n\n${printSchema(lexicographicSortSchema(schema))}\n`;
}
