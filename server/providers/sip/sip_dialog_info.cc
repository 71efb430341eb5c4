#include "providers/sip/sip_dialog_info.h"

#include <expat.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace linebridge::sip {
namespace {

constexpr char kNamespace[] = "urn:ietf:params:xml:ns:dialog-info";
constexpr char kSeparator = '|';
constexpr int kMaxDepth = 16;

bool ParseState(absl::string_view text, DialogState* out) {
  const std::string s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (s == "trying") {
    *out = DialogState::kTrying;
  } else if (s == "proceeding") {
    *out = DialogState::kProceeding;
  } else if (s == "early") {
    *out = DialogState::kEarly;
  } else if (s == "confirmed") {
    *out = DialogState::kConfirmed;
  } else if (s == "terminated") {
    *out = DialogState::kTerminated;
  } else {
    return false;
  }
  return true;
}

// An SDP whose (first) audio stream does not flow both ways.
bool SdpNotRendering(absl::string_view sdp) {
  for (absl::string_view line : absl::StrSplit(sdp, absl::ByAnyChar("\r\n"), absl::SkipEmpty())) {
    line = absl::StripAsciiWhitespace(line);
    if (line == "a=sendonly" || line == "a=recvonly" || line == "a=inactive") return true;
  }
  return false;
}

// Builds a DialogInfo from expat's callbacks; elements outside the
// dialog-info namespace (extensions) are skipped with their content.
class DialogInfoReader {
 public:
  DialogInfoReader() : parser_(XML_ParserCreateNS("UTF-8", kSeparator)) {
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, &DialogInfoReader::OnStart, &DialogInfoReader::OnEnd);
    XML_SetCharacterDataHandler(parser_, &DialogInfoReader::OnText);
    XML_SetStartDoctypeDeclHandler(parser_, &DialogInfoReader::OnDoctype);
  }
  ~DialogInfoReader() { XML_ParserFree(parser_); }
  DialogInfoReader(const DialogInfoReader&) = delete;
  DialogInfoReader& operator=(const DialogInfoReader&) = delete;

  absl::StatusOr<DialogInfo> Parse(absl::string_view in) {
    if (parser_ == nullptr) return absl::ResourceExhaustedError("XML parser: out of memory");
    if (in.size() > kMaxDialogInfoBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("dialog-info: ", in.size(), " bytes, more than ", kMaxDialogInfoBytes));
    }
    if (XML_Parse(parser_, in.data(), static_cast<int>(in.size()), XML_TRUE) != XML_STATUS_OK) {
      if (!error_.empty()) return Error(error_);
      return Error(XML_ErrorString(XML_GetErrorCode(parser_)));
    }
    if (!error_.empty()) return Error(error_);
    if (!seen_root_) return Error("no dialog-info element");
    return std::move(doc_);
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("dialog-info line ", XML_GetCurrentLineNumber(parser_), ": ", what));
  }

  void Fail(absl::string_view what) {
    if (error_.empty()) error_ = std::string(what);
    XML_StopParser(parser_, XML_FALSE);
  }

  static void OnStart(void* self, const XML_Char* name, const XML_Char** attrs) {
    static_cast<DialogInfoReader*>(self)->Start(name, attrs);
  }
  static void OnEnd(void* self, const XML_Char* /*name*/) {
    static_cast<DialogInfoReader*>(self)->End();
  }
  static void OnText(void* self, const XML_Char* s, int len) {
    static_cast<DialogInfoReader*>(self)->text_.append(s, static_cast<size_t>(len));
  }
  static void OnDoctype(void* self, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    static_cast<DialogInfoReader*>(self)->Fail("DTDs (<!DOCTYPE>) are not allowed");
  }

  // The local name of an element in the dialog-info namespace, else "".
  static std::string LocalName(const XML_Char* name) {
    const absl::string_view n(name);
    const size_t sep = n.find(kSeparator);
    if (sep == absl::string_view::npos || n.substr(0, sep) != kNamespace) return "";
    return std::string(n.substr(sep + 1));
  }

  static std::string Attr(const XML_Char** attrs, absl::string_view key) {
    for (size_t i = 0; attrs[i] != nullptr && attrs[i + 1] != nullptr; i += 2) {
      if (key == attrs[i]) return attrs[i + 1];
    }
    return "";
  }

  bool In(std::initializer_list<absl::string_view> path) const {
    if (stack_.size() != path.size()) return false;
    size_t i = 0;
    for (absl::string_view p : path) {
      if (stack_[i++] != p) return false;
    }
    return true;
  }

  DialogParticipant* Participant() {
    if (stack_.size() < 3 || doc_.dialogs.empty()) return nullptr;
    if (stack_[2] == "local") return &doc_.dialogs.back().local;
    if (stack_[2] == "remote") return &doc_.dialogs.back().remote;
    return nullptr;
  }

  void Start(const XML_Char* name, const XML_Char** attrs) {
    if (!error_.empty()) return;
    if (static_cast<int>(stack_.size()) >= kMaxDepth) return Fail("elements nested too deeply");
    text_.clear();
    std::string local = LocalName(name);
    if (stack_.empty()) {
      if (local != "dialog-info") {
        return Fail(absl::StrCat("root element is not dialog-info in ", kNamespace));
      }
      seen_root_ = true;
      const std::string version = Attr(attrs, "version");
      if (!absl::SimpleAtoi(version, &doc_.version)) {
        return Fail(absl::StrCat("version \"", version, "\" is not a number"));
      }
      const std::string state = Attr(attrs, "state");
      if (state != "full" && state != "partial") {
        return Fail(absl::StrCat("state \"", state, "\" is neither full nor partial"));
      }
      doc_.full = state == "full";
      doc_.entity = Attr(attrs, "entity");
    } else if (!local.empty() && stack_.size() == 1 && local == "dialog") {
      if (static_cast<int>(doc_.dialogs.size()) >= kMaxDialogInfoDialogs) {
        return Fail(absl::StrCat("more than ", kMaxDialogInfoDialogs, " dialogs"));
      }
      DialogInfoDialog d;
      d.id = Attr(attrs, "id");
      if (d.id.empty()) return Fail("a dialog without an id");
      d.call_id = Attr(attrs, "call-id");
      d.local_tag = Attr(attrs, "local-tag");
      d.remote_tag = Attr(attrs, "remote-tag");
      const std::string dir = Attr(attrs, "direction");
      d.direction = dir == "initiator"   ? DialogDirection::kInitiator
                    : dir == "recipient" ? DialogDirection::kRecipient
                                         : DialogDirection::kUnknown;
      doc_.dialogs.push_back(std::move(d));
      state_seen_ = false;
    }
    stack_.push_back(local.empty() ? std::string("?") : local);
    if (In({"dialog-info", "dialog", "state"}) && !doc_.dialogs.empty()) {
      doc_.dialogs.back().event = Attr(attrs, "event");
      int code = 0;
      if (absl::SimpleAtoi(Attr(attrs, "code"), &code) && code >= 100 && code <= 699) {
        doc_.dialogs.back().code = code;
      }
    } else if (DialogParticipant* p = Participant(); p != nullptr) {
      if (stack_.size() == 4 && local == "identity") {
        p->display = Attr(attrs, "display");
      } else if (stack_.size() == 4 && local == "target") {
        p->target = Attr(attrs, "uri");
      } else if (stack_.size() == 5 && stack_[3] == "target" && local == "param") {
        if (Attr(attrs, "pname") == "+sip.rendering" &&
            absl::AsciiStrToLower(Attr(attrs, "pvalue")) == "no") {
          p->not_rendering = true;
        }
      }
    }
  }

  void End() {
    if (!error_.empty() || stack_.empty()) return;
    const std::string text(absl::StripAsciiWhitespace(text_));
    if (In({"dialog-info", "dialog", "state"}) && !doc_.dialogs.empty()) {
      if (!ParseState(text, &doc_.dialogs.back().state)) {
        return Fail(absl::StrCat("unknown dialog state \"", text.substr(0, 32), "\""));
      }
      state_seen_ = true;
    } else if (In({"dialog-info", "dialog"})) {
      if (!state_seen_) return Fail(absl::StrCat("dialog ", doc_.dialogs.back().id, " has no state"));
    } else if (DialogParticipant* p = Participant(); p != nullptr && stack_.size() == 4) {
      if (stack_[3] == "identity") p->identity = text;
      if (stack_[3] == "session-description" && SdpNotRendering(text_)) p->not_rendering = true;
    }
    stack_.pop_back();
    text_.clear();
  }

  XML_Parser parser_;
  DialogInfo doc_;
  bool seen_root_ = false;
  bool state_seen_ = false;
  std::vector<std::string> stack_;  // local names of the open elements ("?" = foreign)
  std::string text_;                // the current element's text so far
  std::string error_;
};

}  // namespace

absl::StatusOr<DialogInfo> ParseDialogInfo(absl::string_view xml) {
  DialogInfoReader reader;
  return reader.Parse(xml);
}

DialogInfoView::Result DialogInfoView::Apply(const DialogInfo& doc,
                                             std::vector<DialogInfoDialog>* changed) {
  if (have_version_ && doc.version <= version_) return Result::kStale;
  if (!doc.full && (!have_version_ || doc.version != version_ + 1)) {
    // The view misses what came between: only a full document repairs it.
    return Result::kGap;
  }
  have_version_ = true;
  version_ = doc.version;
  std::map<std::string, DialogInfoDialog> next = doc.full ? std::map<std::string, DialogInfoDialog>()
                                                          : dialogs_;
  std::map<std::string, bool> named;
  for (const DialogInfoDialog& d : doc.dialogs) {
    named[d.id] = true;
    auto old = dialogs_.find(d.id);
    const bool same = old != dialogs_.end() && old->second.state == d.state &&
                      old->second.held() == d.held() &&
                      old->second.remote.identity == d.remote.identity &&
                      old->second.remote.display == d.remote.display;
    if (d.state == DialogState::kTerminated) {
      next.erase(d.id);
      if (old != dialogs_.end()) changed->push_back(d);  // never seen: nothing to end
      continue;
    }
    next[d.id] = d;
    if (!same) changed->push_back(d);
  }
  if (doc.full) {
    // Dialogs a full document no longer lists are over.
    for (const auto& [id, d] : dialogs_) {
      if (named.count(id) > 0) continue;
      DialogInfoDialog gone = d;
      gone.state = DialogState::kTerminated;
      changed->push_back(std::move(gone));
    }
  }
  dialogs_ = std::move(next);
  return Result::kApplied;
}

void DialogInfoView::NewSubscription() {
  have_version_ = false;
  version_ = 0;
}

}  // namespace linebridge::sip
