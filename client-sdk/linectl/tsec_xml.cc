#include "linectl/tsec_xml.h"

#include <expat.h>

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "linebridge/printable.h"
#include "linebridge/status_macros.h"

namespace linebridge::linectl {
namespace {

struct XmlNode {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::string text;
  std::vector<std::unique_ptr<XmlNode>> children;
  const XmlNode* Child(absl::string_view n) const {
    for (const auto& c : children) {
      if (c->name == n) return c.get();
    }
    return nullptr;
  }
};

absl::Status LineError(uint64_t line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("XML line ", line, ": ", what));
}

// The whole text first: UTF-8 (the tsecimp encoding) without control
// characters other than tab and line ends. expat would accept C1 controls
// and report other bytes without naming the rule.
absl::Status CheckRawText(absl::string_view in) {
  uint64_t line = 1;
  for (size_t pos = 0; pos < in.size();) {
    const unsigned char c = static_cast<unsigned char>(in[pos]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
        return LineError(line, absl::StrFormat("control character 0x%02x", c));
      }
      line += c == '\n';
      ++pos;
      continue;
    }
    const size_t n = internal::PrintableUtf8Length(in, pos);
    if (n == 0) {
      return LineError(line,
                       absl::StrFormat("not valid UTF-8 (byte 0x%02x); save the file as UTF-8", c));
    }
    pos += n;
  }
  return absl::OkStatus();
}

// A decoded value (text or attribute, character references resolved): the
// first control character in it, as U+XXXX, or "".
std::string ControlCharacterIn(absl::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
      return absl::StrFormat("U+%04X", c);
    }
    // C1 controls: U+0080..U+009F are C2 80..C2 9F in UTF-8.
    if (c == 0xC2 && i + 1 < s.size()) {
      const unsigned char d = static_cast<unsigned char>(s[i + 1]);
      if (d >= 0x80 && d <= 0x9F) return absl::StrFormat("U+%04X", d);
    }
  }
  return "";
}

// Builds the element tree from expat's callbacks. Refusals of its own
// (depth, element count, DTDs, control characters) stop the parser and are
// kept in error_.
class TreeBuilder {
 public:
  TreeBuilder() : parser_(XML_ParserCreate("UTF-8")) {
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, &TreeBuilder::OnStart, &TreeBuilder::OnEnd);
    XML_SetCharacterDataHandler(parser_, &TreeBuilder::OnText);
    XML_SetStartDoctypeDeclHandler(parser_, &TreeBuilder::OnDoctype);
  }
  ~TreeBuilder() { XML_ParserFree(parser_); }
  TreeBuilder(const TreeBuilder&) = delete;
  TreeBuilder& operator=(const TreeBuilder&) = delete;

  absl::StatusOr<std::unique_ptr<XmlNode>> Parse(absl::string_view in) {
    if (parser_ == nullptr) return absl::ResourceExhaustedError("XML parser: out of memory");
    // XML_Parse takes an int length: feed the text in pieces.
    constexpr size_t kChunk = 1 << 20;
    size_t pos = 0;
    do {
      const size_t n = std::min(kChunk, in.size() - pos);
      const bool last = pos + n == in.size();
      if (XML_Parse(parser_, in.data() + pos, static_cast<int>(n), last ? XML_TRUE : XML_FALSE) !=
          XML_STATUS_OK) {
        if (!error_.ok()) return error_;
        return LineError(XML_GetCurrentLineNumber(parser_), Describe(XML_GetErrorCode(parser_)));
      }
      pos += n;
    } while (pos < in.size());
    if (!error_.ok()) return error_;
    if (root_ == nullptr) return LineError(1, "no root element");
    return std::move(root_);
  }

 private:
  static std::string Describe(XML_Error code) {
    switch (code) {
      case XML_ERROR_BAD_CHAR_REF:
        return "bad character reference (a control character or not a character)";
      case XML_ERROR_UNDEFINED_ENTITY:
        return "unknown entity (only &amp; &lt; &gt; &quot; &apos; and character references)";
      case XML_ERROR_JUNK_AFTER_DOC_ELEMENT:
        return "content after the root element";
      default:
        return XML_ErrorString(code);
    }
  }

  void Fail(absl::string_view what) {
    if (error_.ok()) error_ = LineError(XML_GetCurrentLineNumber(parser_), what);
    XML_StopParser(parser_, XML_FALSE);
  }

  bool CheckValue(absl::string_view value, absl::string_view where) {
    const std::string bad = ControlCharacterIn(value);
    if (bad.empty()) return true;
    Fail(absl::StrCat("control character ", bad, " in ", where));
    return false;
  }

  static void OnStart(void* self, const XML_Char* name, const XML_Char** attrs) {
    static_cast<TreeBuilder*>(self)->Start(name, attrs);
  }
  static void OnEnd(void* self, const XML_Char* /*name*/) { static_cast<TreeBuilder*>(self)->End(); }
  static void OnText(void* self, const XML_Char* s, int len) {
    static_cast<TreeBuilder*>(self)->Text(absl::string_view(s, static_cast<size_t>(len)));
  }
  static void OnDoctype(void* self, const XML_Char* /*name*/, const XML_Char* /*sysid*/,
                        const XML_Char* /*pubid*/, int /*has_internal_subset*/) {
    static_cast<TreeBuilder*>(self)->Fail("DTDs (<!DOCTYPE>) are not allowed");
  }

  void Start(const XML_Char* name, const XML_Char** attrs) {
    if (!error_.ok()) return;
    if (static_cast<int>(stack_.size()) >= kMaxTsecDepth) {
      return Fail("elements nested too deeply");
    }
    if (++elements_ > kMaxTsecElements) {
      return Fail(absl::StrCat("more than ", kMaxTsecElements, " elements"));
    }
    auto node = std::make_unique<XmlNode>();
    node->name = name;
    for (size_t i = 0; attrs[i] != nullptr && attrs[i + 1] != nullptr; i += 2) {
      if (!CheckValue(attrs[i + 1], absl::StrCat("attribute ", attrs[i], " of <", name, ">"))) {
        return;
      }
      node->attributes[attrs[i]] = attrs[i + 1];
    }
    XmlNode* raw = node.get();
    if (stack_.empty()) {
      root_ = std::move(node);
    } else {
      stack_.back()->children.push_back(std::move(node));
    }
    stack_.push_back(raw);
  }

  void End() {
    if (!error_.ok() || stack_.empty()) return;
    XmlNode* node = stack_.back();
    stack_.pop_back();
    if (!CheckValue(node->text, absl::StrCat("<", node->name, ">"))) return;
    node->text = std::string(absl::StripAsciiWhitespace(node->text));
  }

  void Text(absl::string_view s) {
    if (!error_.ok() || stack_.empty()) return;
    stack_.back()->text.append(s.data(), s.size());
  }

  XML_Parser parser_;
  std::unique_ptr<XmlNode> root_;
  std::vector<XmlNode*> stack_;  // open elements, innermost last
  int elements_ = 0;
  absl::Status error_;
};

bool Truthy(const std::map<std::string, std::string>& attrs, const std::string& name) {
  auto it = attrs.find(name);
  if (it == attrs.end()) return false;
  const std::string v = absl::AsciiStrToLower(it->second);
  return v == "1" || v == "true" || v == "yes";
}

std::string Escape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\r':  // a raw CR would be read back as a line feed
        out += "&#13;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<TsecUser>> ParseTsecXml(absl::string_view xml) {
  LB_RETURN_IF_ERROR(CheckRawText(xml));
  TreeBuilder builder;
  LB_ASSIGN_OR_RETURN(std::unique_ptr<XmlNode> root, builder.Parse(xml));
  if (root->name != "UserList") {
    return absl::InvalidArgumentError(
        absl::StrCat("the root element is <", root->name, ">, not <UserList>"));
  }
  std::vector<TsecUser> users;
  for (const auto& u : root->children) {
    if (u->name != "User") {
      return absl::InvalidArgumentError(absl::StrCat("<UserList> holds <", u->name, ">"));
    }
    TsecUser user;
    user.no_merge = Truthy(u->attributes, "NoMerge");
    const XmlNode* name = u->Child("DomainUserName");
    if (name == nullptr || name->text.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("<User> number ", users.size() + 1, " has no <DomainUserName>"));
    }
    user.domain_user_name = name->text;
    if (const XmlNode* f = u->Child("FriendlyName"); f != nullptr) user.friendly_name = f->text;
    if (const XmlNode* list = u->Child("LineList"); list != nullptr) {
      user.has_line_list = true;
      for (const auto& l : list->children) {
        if (l->name != "Line") {
          return absl::InvalidArgumentError(absl::StrCat("<LineList> holds <", l->name, ">"));
        }
        TsecLine line;
        line.remove = Truthy(l->attributes, "Remove");
        const XmlNode* addr = l->Child("Address");
        if (addr == nullptr) addr = l->Child("Addr");
        const XmlNode* perm = l->Child("PermanentID");
        if ((addr == nullptr) == (perm == nullptr)) {
          return absl::InvalidArgumentError(
              absl::StrCat("a <Line> of ", user.domain_user_name,
                           " needs exactly one of <Address> and <PermanentID>"));
        }
        if (addr != nullptr) line.address = addr->text;
        if (perm != nullptr) line.permanent_id = perm->text;
        user.lines.push_back(std::move(line));
      }
    }
    users.push_back(std::move(user));
  }
  return users;
}

std::string WriteTsecXml(const std::vector<TsecUser>& users) {
  std::string out = "<UserList>\n";
  for (const TsecUser& u : users) {
    absl::StrAppend(&out, "  <User", u.no_merge ? " NoMerge=\"1\"" : "", ">\n",
                    "    <DomainUserName>", Escape(u.domain_user_name), "</DomainUserName>\n");
    if (!u.friendly_name.empty()) {
      absl::StrAppend(&out, "    <FriendlyName>", Escape(u.friendly_name), "</FriendlyName>\n");
    }
    if (u.has_line_list) {
      absl::StrAppend(&out, "    <LineList>\n");
      for (const TsecLine& l : u.lines) {
        absl::StrAppend(&out, "      <Line", l.remove ? " Remove=\"1\"" : "", ">");
        if (!l.permanent_id.empty()) {
          absl::StrAppend(&out, "<PermanentID>", Escape(l.permanent_id), "</PermanentID>");
        } else {
          absl::StrAppend(&out, "<Address>", Escape(l.address), "</Address>");
        }
        absl::StrAppend(&out, "</Line>\n");
      }
      absl::StrAppend(&out, "    </LineList>\n");
    }
    absl::StrAppend(&out, "  </User>\n");
  }
  absl::StrAppend(&out, "</UserList>\n");
  return out;
}

}  // namespace linebridge::linectl
