// The template language of hotswap-watch, and the file replacement.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "escape.h"
#include "hotswap/harness/temp_dir.h"
#include "output_file.h"
#include "snapshot_data.h"
#include "template.h"

namespace hotswap::watch {
namespace {

using namespace std::chrono_literals;

class MapData : public TemplateData {
 public:
  explicit MapData(std::map<std::string, Value> values) : values_(std::move(values)) {}
  std::optional<Value> find(std::string_view key) const override {
    auto it = values_.find(std::string(key));
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::pair<std::string, Value>> with_prefix(std::string_view prefix) const override {
    std::vector<std::pair<std::string, Value>> out;
    for (const auto& [k, v] : values_) {
      if (k.starts_with(prefix)) out.emplace_back(k, v);
    }
    return out;
  }

 private:
  std::map<std::string, Value> values_;
};

const MapData kData({{"name", Value{std::string("web")}},
                     {"port", Value{int64_t{8080}}},
                     {"ratio", Value{0.25}},
                     {"gzip", Value{true}},
                     {"debug", Value{false}},
                     {"timeout", Value{Duration(250ms)}},
                     {"rules", Value{Json{R"({"a":[1,2]})"}}},
                     {"quote", Value{std::string("it's \"x\"\n")}},
                     {"backend.a", Value{std::string("10.0.0.1")}},
                     {"backend.b", Value{std::string("10.0.0.2")}},
                     {"empty", Value{std::string()}}});

std::string render(std::string_view text, const TemplateData& data = kData) {
  auto t = Template::parse("t.tmpl", text);
  if (!t) return "PARSE " + t.error().to_string();
  auto out = t->render(data);
  if (!out) return "RENDER " + out.error().to_string();
  return *out;
}

TEST(Template, SubstitutesEveryTypeAsText) {
  EXPECT_EQ(render("server {{ name }}:{{port}};"), "server web:8080;");
  EXPECT_EQ(render("{{ ratio }} {{ gzip }} {{ debug }} {{ timeout }} {{ rules }}"),
            R"(0.25 true false 250ms {"a":[1,2]})");
  EXPECT_EQ(render("no actions at all\n"), "no actions at all\n");
  EXPECT_EQ(render(R"({{ "{{" }} literal)"), "{{ literal");
  EXPECT_EQ(render(R"({{ key "port" }})"), "8080");
}

TEST(Template, DefaultsConditionsAndLoops) {
  EXPECT_EQ(render(R"({{ missing | default "warn" }})"), "warn");
  EXPECT_EQ(render(R"({{ missing | default port }})"), "8080");
  EXPECT_EQ(render(R"({{ name | default "x" }})"), "web");
  EXPECT_EQ(render("{{ if gzip }}on{{ else }}off{{ end }}"), "on");
  EXPECT_EQ(render("{{ if debug }}on{{ else }}off{{ end }}"), "off");
  EXPECT_EQ(render("{{ if missing }}on{{ end }}|{{ if empty }}e{{ end }}"), "|");
  EXPECT_EQ(render("{{ range \"backend.\" }}[{{ .name }}={{ .value }} {{ .key }}]{{ end }}"),
            "[a=10.0.0.1 backend.a][b=10.0.0.2 backend.b]");
  EXPECT_EQ(render("{{ range \"none.\" }}x{{ end }}."), ".");
  EXPECT_EQ(render("{{ range \"backend.\" }}{{ if gzip }}{{ .name }}{{ end }}{{ end }}"), "ab");
}

TEST(Template, EscapesForJsonAndShell) {
  EXPECT_EQ(render("{{ quote | json }}"), R"("it's \"x\"\n")");
  EXPECT_EQ(render("{{ port | json }} {{ gzip | json }} {{ rules | json }} {{ timeout | json }}"),
            R"(8080 true {"a":[1,2]} "250ms")");
  EXPECT_EQ(render("X={{ quote | shell }}"), "X='it'\\''s \"x\"\n'");
  EXPECT_EQ(render("{{ name | upper }} {{ name | upper | lower }}"), "WEB web");
  EXPECT_EQ(render("{{ missing | default \"a'b\" | shell }}"), "'a'\\''b'");
}

TEST(Template, TrimMarkersEatWhitespace) {
  EXPECT_EQ(render("a\n  {{- name -}}  \nb"), "awebb");
  EXPECT_EQ(render("list:\n{{- range \"backend.\" }}\n  - {{ .value }}\n{{- end }}\n"),
            "list:\n  - 10.0.0.1\n  - 10.0.0.2\n");
  EXPECT_EQ(render("a {{# a comment }}b"), "a b");
}

TEST(Template, SyntaxErrorsNameTheirLineAndColumn) {
  EXPECT_EQ(render("ok\nbad {{ name | nope }}"),
            "PARSE t.tmpl:2:15: unknown filter 'nope' (default, json, shell, upper, lower)");
  EXPECT_EQ(render("x {{ name"), "PARSE t.tmpl:1:3: '{{' without a closing '}}'");
  EXPECT_EQ(render("{{ if gzip }}\nno end"), "PARSE t.tmpl:1:1: 'if' without an 'end'");
  EXPECT_EQ(render("\n  {{ end }}"), "PARSE t.tmpl:2:3: 'end' without an 'if' or 'range'");
  EXPECT_EQ(render("{{ .value }}"), "PARSE t.tmpl:1:4: '.value' outside a 'range'");
  EXPECT_EQ(render("{{ range backend }}{{ end }}"),
            "PARSE t.tmpl:1:1: 'range' takes one key prefix in quotes: range \"db.\"");
  EXPECT_EQ(render("{{ \"open }}"), "PARSE t.tmpl:1:4: string without a closing '\"'");
  EXPECT_EQ(render("{{ name port }}"), "PARSE t.tmpl:1:9: expected '|' or the end of the action");
  EXPECT_EQ(render("{{ name | default }}"),
            "PARSE t.tmpl:1:11: 'default' needs a fallback: default \"text\"");
  EXPECT_EQ(render("{{ if a }}{{ else }}{{ else }}{{ end }}"),
            "PARSE t.tmpl:1:21: a second 'else' in one 'if'");
  EXPECT_EQ(render("{{ range \"a\" }}{{ .nope }}{{ end }}"),
            "PARSE t.tmpl:1:19: unknown field '.nope' (a range gives .key, .name and .value)");
  EXPECT_EQ(render("{{ name ; }}"), "PARSE t.tmpl:1:9: unexpected character ';'");
}

TEST(Template, AMissingKeyFailsTheRenderWithItsPosition) {
  EXPECT_EQ(render("a\n b {{ gone }}"),
            "RENDER t.tmpl:2:7: key 'gone' is not in this version (give a fallback: | default "
            "\"...\")");
  EXPECT_EQ(render("{{ gone | shell }}"),
            "RENDER t.tmpl:1:4: key 'gone' is not in this version (give a fallback: | default "
            "\"...\")");
}

TEST(EnvName, UppercasesAndReplacesWhatAShellCannotName) {
  EXPECT_EQ(env_name("db.host", "", ""), "DB_HOST");
  EXPECT_EQ(env_name("db.host", "db.", "APP_"), "APP_HOST");
  EXPECT_EQ(env_name("feature-x/on", "", ""), "FEATURE_X_ON");
}

TEST(OutputFile, ReplacesOnlyOnChangeKeepingModeAndNoTemporaryBehind) {
  test::TempDir dir;
  const std::string path = dir.path() + "/out.conf";
  ASSERT_EQ(replace_if_changed(path, "one\n").value_or(false), true);
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  EXPECT_EQ(replace_if_changed(path, "one\n").value_or(true), false);
  struct stat same {};
  ASSERT_EQ(::stat(path.c_str(), &same), 0);
  EXPECT_EQ(same.st_ino, before.st_ino);  // not rewritten
  EXPECT_EQ(replace_if_changed(path, "two\n").value_or(false), true);
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino);  // a new file renamed into place
  EXPECT_EQ(after.st_mode & 07777, 0640u);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "two\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
  auto refused = replace_if_changed(dir.path() + "/no/such/dir/f", "x");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("no/such/dir/f"), std::string::npos) << refused.error();
}

}  // namespace
}  // namespace hotswap::watch
