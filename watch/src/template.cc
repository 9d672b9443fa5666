#include "template.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "escape.h"

namespace hotswap::watch {

struct Pos {
  int line = 1;
  int column = 1;
};

// A term: a key of the version, a string literal, or a field of the range
// item (.key, .name, .value).
struct Term {
  enum class Kind { key, literal, field } kind = Kind::key;
  std::string text;
  Pos pos;
};

struct Filter {
  std::string name;
  std::optional<Term> arg;  // default's fallback
  Pos pos;
};

struct Expr {
  Term term;
  std::vector<Filter> filters;
};

struct TemplateNode {
  enum class Kind { text, output, if_block, range_block } kind = Kind::text;
  std::string text;  // text: the bytes; range: the prefix
  Expr expr;         // output, if
  std::vector<TemplateNode> body, otherwise;
  Pos pos;
};

std::string TemplateError::to_string() const {
  return name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

namespace {

// ---- lexing: text and actions ----

struct Token {
  enum class Kind { word, string, pipe, field } kind;
  std::string text;
  Pos pos;
};

struct Action {
  std::vector<Token> tokens;
  Pos pos;  // of the opening {{
};

// Text, or an action; what the parser consumes.
struct Item {
  bool is_action = false;
  std::string text;
  Action action;
  Pos pos;
};

using ParseError = std::unexpected<TemplateError>;

constexpr const char* kSpace = " \t\r\n";

class Lexer {
 public:
  Lexer(std::string name, std::string_view text) : name_(std::move(name)), text_(text) {}

  std::expected<std::vector<Item>, TemplateError> items() {
    std::vector<Item> out;
    while (at_ < text_.size()) {
      const size_t open = text_.find("{{", at_);
      std::string text(text_.substr(at_, open == std::string_view::npos ? open : open - at_));
      const Pos text_pos = pos_;
      advance_to(open == std::string_view::npos ? text_.size() : open);
      // "-}}" before this text and "{{-" after it eat its whitespace there.
      if (std::exchange(trim_next_, false)) text.erase(0, text.find_first_not_of(kSpace));
      if (open != std::string_view::npos && text_.substr(open, 4) == "{{- ") {
        text.erase(text.find_last_not_of(kSpace) + 1);
      }
      if (!text.empty()) out.push_back(Item{false, std::move(text), {}, text_pos});
      if (open == std::string_view::npos) break;
      auto action = read_action();
      if (!action) return std::unexpected(action.error());
      if (!action->tokens.empty()) out.push_back(Item{true, {}, std::move(*action), {}});
    }
    return out;
  }

 private:
  ParseError fail(Pos pos, std::string message) const {
    return std::unexpected(TemplateError{name_, pos.line, pos.column, std::move(message)});
  }

  void advance_to(size_t end) {
    for (; at_ < end; ++at_) {
      if (text_[at_] == '\n') {
        ++pos_.line;
        pos_.column = 1;
      } else {
        ++pos_.column;
      }
    }
  }

  // At "{{": the action up to its "}}", as tokens (none for a comment).
  std::expected<Action, TemplateError> read_action() {
    Action action{{}, pos_};
    const size_t close = text_.find("}}", at_ + 2);
    if (close == std::string_view::npos) return fail(pos_, "'{{' without a closing '}}'");
    size_t begin = at_ + 2;
    size_t end = close;
    if (text_.substr(begin, 2) == "- ") begin += 2;
    if (end >= begin + 2 && text_.substr(end - 2, 2) == " -") {
      end -= 2;
      trim_next_ = true;
    }
    advance_to(begin);
    if (at_ < end && text_[at_] == '#') {  // a comment
      advance_to(close + 2);
      return action;
    }
    while (true) {
      while (at_ < end && std::isspace(static_cast<unsigned char>(text_[at_]))) advance_to(at_ + 1);
      if (at_ >= end) break;
      auto token = read_token(end);
      if (!token) return std::unexpected(token.error());
      action.tokens.push_back(std::move(*token));
    }
    advance_to(close + 2);
    return action;
  }

  static bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/' ||
           c == '-' || c == ':' || c == '@';
  }

  std::expected<Token, TemplateError> read_token(size_t end) {
    const Pos start = pos_;
    const char c = text_[at_];
    if (c == '|') {
      advance_to(at_ + 1);
      return Token{Token::Kind::pipe, "|", start};
    }
    if (c == '"') return read_string(end, start);
    if (!word_char(c)) return fail(start, std::string("unexpected character '") + c + "'");
    size_t stop = at_;
    while (stop < end && word_char(text_[stop])) ++stop;
    std::string word(text_.substr(at_, stop - at_));
    advance_to(stop);
    if (word[0] == '.') return Token{Token::Kind::field, word.substr(1), start};
    return Token{Token::Kind::word, std::move(word), start};
  }

  std::expected<Token, TemplateError> read_string(size_t end, Pos start) {
    std::string value;
    advance_to(at_ + 1);
    while (at_ < end && text_[at_] != '"') {
      char c = text_[at_];
      if (c == '\\') {
        if (at_ + 1 >= end) break;
        const char e = text_[at_ + 1];
        if (e != '"' && e != '\\' && e != 'n' && e != 't') {
          return fail(pos_, std::string("unknown escape '\\") + e + "' (use \\\" \\\\ \\n \\t)");
        }
        c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
        advance_to(at_ + 1);
      }
      value.push_back(c);
      advance_to(at_ + 1);
    }
    if (at_ >= end) return fail(start, "string without a closing '\"'");
    advance_to(at_ + 1);
    return Token{Token::Kind::string, std::move(value), start};
  }

  std::string name_;
  std::string_view text_;
  size_t at_ = 0;
  Pos pos_;
  bool trim_next_ = false;
};

// ---- parsing: items into nodes ----

constexpr std::string_view kFilters[] = {"default", "json", "shell", "upper", "lower"};
constexpr std::string_view kFields[] = {"key", "name", "value"};

class Parser {
 public:
  Parser(std::string name, std::vector<Item> items)
      : name_(std::move(name)), items_(std::move(items)) {}

  std::expected<std::vector<TemplateNode>, TemplateError> parse() {
    std::vector<TemplateNode> nodes;
    auto end = block(nodes);
    if (!end) return std::unexpected(end.error());
    if (*end != nullptr)
      return fail((*end)->pos, "'" + (*end)->tokens[0].text + "' without an 'if' or 'range'");
    return nodes;
  }

 private:
  ParseError fail(Pos pos, std::string message) const {
    return std::unexpected(TemplateError{name_, pos.line, pos.column, std::move(message)});
  }

  static bool is(const Action& a, std::string_view word) {
    return a.tokens[0].kind == Token::Kind::word && a.tokens[0].text == word;
  }

  // Nodes into `out` until an 'else' or 'end' (returned) or the end of the
  // template (nullptr).
  std::expected<const Action*, TemplateError> block(std::vector<TemplateNode>& out) {
    while (next_ < items_.size()) {
      const Item& item = items_[next_++];
      if (!item.is_action) {
        out.push_back(TemplateNode{TemplateNode::Kind::text, item.text, {}, {}, {}, item.pos});
        continue;
      }
      const Action& a = item.action;
      if (is(a, "else") || is(a, "end")) {
        if (a.tokens.size() > 1)
          return fail(a.tokens[1].pos, "'" + a.tokens[0].text + "' takes nothing after it");
        return &a;
      }
      auto node = is(a, "if") ? if_block(a) : is(a, "range") ? range_block(a) : output(a);
      if (!node) return std::unexpected(node.error());
      out.push_back(std::move(*node));
    }
    return nullptr;
  }

  std::expected<TemplateNode, TemplateError> output(const Action& a) {
    auto expr = expression(a.tokens, 0);
    if (!expr) return std::unexpected(expr.error());
    return TemplateNode{TemplateNode::Kind::output, {}, std::move(*expr), {}, {}, a.pos};
  }

  std::expected<TemplateNode, TemplateError> if_block(const Action& a) {
    if (a.tokens.size() < 2) return fail(a.pos, "'if' needs a condition");
    auto expr = expression(a.tokens, 1);
    if (!expr) return std::unexpected(expr.error());
    TemplateNode node{TemplateNode::Kind::if_block, {}, std::move(*expr), {}, {}, a.pos};
    auto end = block(node.body);
    if (!end) return std::unexpected(end.error());
    if (*end != nullptr && is(**end, "else")) end = block(node.otherwise);
    if (!end) return std::unexpected(end.error());
    if (*end == nullptr) return fail(a.pos, "'if' without an 'end'");
    if (!is(**end, "end")) return fail((*end)->pos, "a second 'else' in one 'if'");
    return node;
  }

  std::expected<TemplateNode, TemplateError> range_block(const Action& a) {
    if (a.tokens.size() != 2 || a.tokens[1].kind != Token::Kind::string) {
      return fail(a.pos, "'range' takes one key prefix in quotes: range \"db.\"");
    }
    TemplateNode node{TemplateNode::Kind::range_block, a.tokens[1].text, {}, {}, {}, a.pos};
    ++range_depth_;
    auto end = block(node.body);
    --range_depth_;
    if (!end) return std::unexpected(end.error());
    if (*end == nullptr) return fail(a.pos, "'range' without an 'end'");
    if (!is(**end, "end")) return fail((*end)->pos, "'else' inside a 'range'");
    return node;
  }

  std::expected<Term, TemplateError> term(const std::vector<Token>& tokens, size_t& i) {
    const Token& t = tokens[i++];
    switch (t.kind) {
      case Token::Kind::string:
        return Term{Term::Kind::literal, t.text, t.pos};
      case Token::Kind::field:
        if (std::find(std::begin(kFields), std::end(kFields), t.text) == std::end(kFields)) {
          return fail(t.pos,
                      "unknown field '." + t.text + "' (a range gives .key, .name and .value)");
        }
        if (range_depth_ == 0) return fail(t.pos, "'." + t.text + "' outside a 'range'");
        return Term{Term::Kind::field, t.text, t.pos};
      case Token::Kind::word:
        // `key "name"` reads a key whose name is not a bare word.
        if (t.text == "key" && i < tokens.size() && tokens[i].kind == Token::Kind::string) {
          return Term{Term::Kind::key, tokens[i++].text, t.pos};
        }
        if (t.text == "if" || t.text == "else" || t.text == "end" || t.text == "range") {
          return fail(t.pos, "'" + t.text + "' must begin its action");
        }
        return Term{Term::Kind::key, t.text, t.pos};
      case Token::Kind::pipe:
        break;
    }
    return fail(t.pos, "expected a key, a string or a field before '|'");
  }

  std::expected<Expr, TemplateError> expression(const std::vector<Token>& tokens, size_t i) {
    auto first = term(tokens, i);
    if (!first) return std::unexpected(first.error());
    Expr expr{std::move(*first), {}};
    while (i < tokens.size()) {
      if (tokens[i].kind != Token::Kind::pipe) {
        return fail(tokens[i].pos, "expected '|' or the end of the action");
      }
      if (++i >= tokens.size() || tokens[i].kind != Token::Kind::word) {
        return fail(tokens[i - 1].pos, "expected a filter after '|'");
      }
      const Token& name = tokens[i++];
      if (std::find(std::begin(kFilters), std::end(kFilters), name.text) == std::end(kFilters)) {
        return fail(name.pos,
                    "unknown filter '" + name.text + "' (default, json, shell, upper, lower)");
      }
      Filter filter{name.text, std::nullopt, name.pos};
      if (name.text == "default") {
        if (i >= tokens.size() || tokens[i].kind == Token::Kind::pipe) {
          return fail(name.pos, "'default' needs a fallback: default \"text\"");
        }
        auto arg = term(tokens, i);
        if (!arg) return std::unexpected(arg.error());
        filter.arg = std::move(*arg);
      }
      expr.filters.push_back(std::move(filter));
    }
    return expr;
  }

  std::string name_;
  std::vector<Item> items_;
  size_t next_ = 0;
  int range_depth_ = 0;
};

// ---- rendering ----

struct RangeItem {
  const std::string* key;
  std::string_view name;
  const Value* value;
};

class Renderer {
 public:
  Renderer(const std::string& name, const TemplateData& data) : name_(name), data_(data) {}

  std::expected<void, TemplateError> nodes(const std::vector<TemplateNode>& list,
                                           std::string& out) {
    for (const TemplateNode& node : list) {
      auto done = one(node, out);
      if (!done) return done;
    }
    return {};
  }

 private:
  std::unexpected<TemplateError> fail(Pos pos, std::string message) const {
    return std::unexpected(TemplateError{name_, pos.line, pos.column, std::move(message)});
  }

  std::expected<void, TemplateError> one(const TemplateNode& node, std::string& out) {
    switch (node.kind) {
      case TemplateNode::Kind::text:
        out += node.text;
        return {};
      case TemplateNode::Kind::output: {
        auto value = evaluate(node.expr);
        if (!value) return std::unexpected(value.error());
        if (!*value) return fail(node.expr.term.pos, absent(node.expr.term));
        out += value_text(**value);
        return {};
      }
      case TemplateNode::Kind::if_block: {
        auto value = evaluate(node.expr);
        if (!value) return std::unexpected(value.error());
        return nodes(truthy(*value) ? node.body : node.otherwise, out);
      }
      case TemplateNode::Kind::range_block:
        return range(node, out);
    }
    return {};
  }

  std::expected<void, TemplateError> range(const TemplateNode& node, std::string& out) {
    const auto entries = data_.with_prefix(node.text);
    for (const auto& [key, value] : entries) {
      scopes_.push_back({&key, std::string_view(key).substr(node.text.size()), &value});
      auto done = nodes(node.body, out);
      scopes_.pop_back();
      if (!done) return done;
    }
    return {};
  }

  static bool truthy(const std::optional<Value>& v) {
    if (!v) return false;
    return std::visit(
        [](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>)
            return !x.empty();
          else if constexpr (std::is_same_v<T, Json>)
            return !x.text.empty();
          else if constexpr (std::is_same_v<T, Duration>)
            return x.count() != 0;
          else
            return x != T{};
        },
        *v);
  }

  std::string absent(const Term& t) const {
    return "key '" + t.text + "' is not in this version (give a fallback: | default \"...\")";
  }

  std::optional<Value> lookup(const Term& t) const {
    switch (t.kind) {
      case Term::Kind::literal:
        return Value{t.text};
      case Term::Kind::key:
        return data_.find(t.text);
      case Term::Kind::field: {
        const RangeItem& item = scopes_.back();
        if (t.text == "key") return Value{*item.key};
        if (t.text == "name") return Value{std::string(item.name)};
        return *item.value;
      }
    }
    return std::nullopt;
  }

  std::expected<std::optional<Value>, TemplateError> evaluate(const Expr& expr) const {
    std::optional<Value> value = lookup(expr.term);
    const Term* source = &expr.term;
    for (const Filter& f : expr.filters) {
      if (f.name == "default") {
        if (!value) {
          value = lookup(*f.arg);
          source = &*f.arg;
        }
        continue;
      }
      if (!value) return fail(source->pos, absent(*source));
      if (f.name == "json")
        value = Value{json_text(*value)};
      else if (f.name == "shell")
        value = Value{shell_quote(value_text(*value))};
      else
        value = Value{change_case(value_text(*value), f.name == "upper")};
    }
    return value;
  }

  static std::string change_case(std::string s, bool upper) {
    for (char& c : s)
      c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                  : std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  const std::string& name_;
  const TemplateData& data_;
  std::vector<RangeItem> scopes_;
};

}  // namespace

Template::Template(std::string name, std::vector<TemplateNode> nodes)
    : name_(std::move(name)),
      nodes_(std::make_unique<std::vector<TemplateNode>>(std::move(nodes))) {}
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::~Template() = default;

std::expected<Template, TemplateError> Template::parse(std::string name, std::string_view text) {
  auto items = Lexer(name, text).items();
  if (!items) return std::unexpected(items.error());
  auto nodes = Parser(name, std::move(*items)).parse();
  if (!nodes) return std::unexpected(nodes.error());
  return Template(std::move(name), std::move(*nodes));
}

std::expected<std::string, TemplateError> Template::render(const TemplateData& data) const {
  std::string out;
  auto done = Renderer(name_, data).nodes(*nodes_, out);
  if (!done) return std::unexpected(done.error());
  return out;
}

}  // namespace hotswap::watch
