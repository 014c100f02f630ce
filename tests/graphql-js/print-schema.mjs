// What a graphql-js client makes of the server's schema: the SDL that
// `printSchema(buildClientSchema(introspection))` gives. The test `schema_file_is_what_graphql_js_
// introspects` (tests/suite/schema.rs) runs it; see README, Development.
//
//   node print-schema.mjs query              prints the introspection query a client sends
//   node print-schema.mjs print < answer.json prints the SDL of an introspection answer
//                                            (`{ "data": { "__schema": … } }`), as
//                                            `console.log(printSchema(…))` would
//   node print-schema.mjs fixture < edge-cases/schema.graphql
//                                            builds that SDL with graphql-js and prints its
//                                            introspection `data` and the SDL graphql-js
//                                            prints from it, as JSON: the expected answers of
//                                            the edge cases in edge-cases/ (checked in, so
//                                            the Rust printer is tested on them without node)
import { readFileSync } from 'node:fs';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  graphqlSync,
  printSchema,
} from 'graphql';

// Everything this server's introspection answers, as GraphiQL and code generators ask for it.
// Not `schemaDescription`: async-graphql answers `__schema { description }` with a fixed text
// about introspection itself, not a description of this schema.
const options = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  inputValueDeprecation: true,
  oneOf: true,
};

const [command] = process.argv.slice(2);
if (command === 'query') {
  process.stdout.write(getIntrospectionQuery(options));
} else if (command === 'print') {
  const answer = JSON.parse(readFileSync(0, 'utf8'));
  if (answer.errors?.length) {
    console.error(JSON.stringify(answer.errors));
    process.exit(1);
  }
  console.log(printSchema(buildClientSchema(answer.data)));
} else if (command === 'fixture') {
  const schema = buildSchema(readFileSync(0, 'utf8'));
  const answer = graphqlSync({ schema, source: getIntrospectionQuery(options) });
  if (answer.errors?.length) {
    console.error(JSON.stringify(answer.errors));
    process.exit(1);
  }
  const sdl = printSchema(buildClientSchema(answer.data));
  console.log(JSON.stringify({ introspection: answer.data, sdl }, null, 1));
} else {
  console.error('usage: node print-schema.mjs query | print < answer.json | fixture < schema.graphql');
  process.exit(2);
}
