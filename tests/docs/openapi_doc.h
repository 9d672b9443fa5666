// docs/openapi.json as the tests of tests/docs read it: every operation
// (method, path template) and a sample path for each, its `{param}`s
// replaced by the examples the document gives them.
#ifndef HOTSWAP_TESTS_DOCS_OPENAPI_DOC_H_
#define HOTSWAP_TESTS_DOCS_OPENAPI_DOC_H_

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace hotswap::test {

// One documented operation.
struct DocOperation {
  std::string method;   // upper case: GET, POST, PUT, PATCH, DELETE
  std::string path;     // the template, e.g. /api/v1/tenants/{tenant}
  std::string sample;   // the template with each parameter's example
  nlohmann::json spec;  // the operation object
};

inline nlohmann::json load_openapi(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file);
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

// A parameter object, its $ref (#/components/parameters/x) followed.
inline const nlohmann::json& resolve_parameter(const nlohmann::json& doc, const nlohmann::json& p) {
  if (!p.contains("$ref")) return p;
  const std::string ref = p["$ref"];
  const std::string prefix = "#/components/parameters/";
  if (!ref.starts_with(prefix)) throw std::runtime_error("unexpected $ref " + ref);
  return doc.at("components").at("parameters").at(ref.substr(prefix.size()));
}

// The path parameters an operation declares (its own and its path item's).
inline std::vector<nlohmann::json> path_parameters(const nlohmann::json& doc,
                                                   const nlohmann::json& path_item,
                                                   const nlohmann::json& op) {
  std::vector<nlohmann::json> out;
  for (const nlohmann::json* list : {&path_item, &op}) {
    if (!list->contains("parameters")) continue;
    for (const auto& p : (*list)["parameters"]) {
      const nlohmann::json& resolved = resolve_parameter(doc, p);
      if (resolved.value("in", "") == "path") out.push_back(resolved);
    }
  }
  return out;
}

// The names between braces in a path template, in order.
inline std::vector<std::string> template_variables(const std::string& path) {
  std::vector<std::string> names;
  for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open)) {
    const size_t close = path.find('}', open);
    if (close == std::string::npos) throw std::runtime_error("unclosed '{' in " + path);
    names.push_back(path.substr(open + 1, close - open - 1));
    open = close;
  }
  return names;
}

// `path` with each {name} replaced by the example of the path parameter
// of that name; throws naming what is missing.
inline std::string sample_path(const std::string& path, const std::vector<nlohmann::json>& params) {
  std::string out = path;
  for (const std::string& name : template_variables(path)) {
    auto it = std::find_if(params.begin(), params.end(),
                           [&](const nlohmann::json& p) { return p.value("name", "") == name; });
    if (it == params.end() || !it->contains("example") || !(*it)["example"].is_string()) {
      throw std::runtime_error(path + ": no path parameter '" + name + "' with a string example");
    }
    const std::string token = "{" + name + "}";
    out.replace(out.find(token), token.size(), (*it)["example"].get<std::string>());
  }
  return out;
}

// Every operation of the document, in its order.
inline std::vector<DocOperation> operations(const nlohmann::json& doc) {
  static const char* kMethods[] = {"get",     "put",  "post",  "delete",
                                   "options", "head", "patch", "trace"};
  std::vector<DocOperation> out;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const char* method : kMethods) {
      if (!item.contains(method)) continue;
      std::string upper = method;
      std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
      const nlohmann::json& op = item[method];
      out.push_back({upper, path, sample_path(path, path_parameters(doc, item, op)), op});
    }
  }
  return out;
}

}  // namespace hotswap::test

#endif  // HOTSWAP_TESTS_DOCS_OPENAPI_DOC_H_
