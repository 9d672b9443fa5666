// Validates an OpenAPI document (docs/openapi.json) with swagger-parser:
// the document against the OpenAPI 3.x schema (3.1: JSON Schema 2020-12
// in the schemas) and every $ref resolved. What it leaves unchecked for
// 3.1 (path parameters against the templates, unique operation ids) the
// C++ test openapi_routes_test.cc checks.
import SwaggerParser from "@apidevtools/swagger-parser";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs OPENAPI_FILE");
  process.exit(2);
}
try {
  const api = await SwaggerParser.validate(file);
  const operations = Object.values(api.paths).reduce(
    (n, item) => n + Object.keys(item).filter((k) => k !== "parameters").length, 0);
  console.log(`${file}: valid OpenAPI ${api.openapi}, ${Object.keys(api.paths).length} paths, ${operations} operations`);
} catch (err) {
  console.error(`${file}: not a valid OpenAPI document: ${err.message}`);
  process.exit(1);
}
