#include "providers/modem/at/probe.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "providers/modem/at/classify.h"
#include "providers/modem/at/sequence.h"

namespace linebridge::at {
namespace {

enum StepIndex { kE0, kAti, kGmi, kCgmi, kGmm, kCgmm, kFclass, kCpas, kStepCount };

// The answer of an identity command: its information lines joined, with a
// "+CGMI:"-style echo of the command name removed.
std::string IdentityAnswer(const Result& result, absl::string_view prefix) {
  std::vector<std::string> parts;
  for (const std::string& line : result.lines) {
    absl::string_view text = line;
    if (absl::StartsWithIgnoreCase(text, prefix)) text = TrimLine(text.substr(prefix.size()));
    if (!text.empty()) parts.emplace_back(text);
  }
  return absl::StrJoin(parts, " ");
}

bool IsNumber(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

absl::string_view ProfileName(ModemProfile profile) {
  switch (profile) {
    case ModemProfile::kHayesData: return "hayes-data";
    case ModemProfile::kV253Voice: return "v253-voice";
    case ModemProfile::k3gppCellular: return "3gpp-cellular";
  }
  return "?";
}

std::vector<std::string> ParseFclassList(absl::string_view answer) {
  std::vector<std::string> classes;
  absl::string_view text = TrimLine(answer);
  if (absl::StartsWithIgnoreCase(text, "+FCLASS:")) text = TrimLine(text.substr(8));
  for (absl::string_view token : absl::StrSplit(text, ',')) {
    std::string item;
    for (char c : token) {
      if (c != '(' && c != ')' && c != ' ' && c != '"') item.push_back(c);
    }
    if (item.empty()) continue;
    size_t dash = item.find('-');
    if (dash != std::string::npos) {
      absl::string_view lo = absl::string_view(item).substr(0, dash);
      absl::string_view hi = absl::string_view(item).substr(dash + 1);
      if (IsNumber(lo) && IsNumber(hi) && lo.size() <= 3 && hi.size() <= 3) {
        for (int n = std::stoi(std::string(lo)); n <= std::stoi(std::string(hi)); ++n) {
          classes.push_back(std::to_string(n));
        }
        continue;
      }
    }
    classes.push_back(std::move(item));
  }
  return classes;
}

ModemProfile PickProfile(const ModemIdentity& identity) {
  if (identity.cgmi && identity.cpas) return ModemProfile::k3gppCellular;
  if (std::find(identity.fclass.begin(), identity.fclass.end(), "8") != identity.fclass.end()) {
    return ModemProfile::kV253Voice;
  }
  return ModemProfile::kHayesData;
}

std::string DescribeIdentity(const ModemIdentity& id) {
  std::string out = id.manufacturer;
  if (!id.model.empty()) absl::StrAppend(&out, out.empty() ? "" : " ", id.model);
  if (!out.empty()) return out;
  std::vector<std::string> ati;
  for (const std::string& line : id.ati) {
    std::string t(TrimLine(line));
    if (!t.empty()) ati.push_back(std::move(t));
  }
  if (!ati.empty()) return absl::StrCat("ATI: ", absl::StrJoin(ati, " / "));
  return "an unidentified modem";
}

void Probe(CommandQueue& queue, std::function<void(absl::StatusOr<ModemIdentity>)> done) {
  std::vector<SequenceStep> steps(kStepCount);
  steps[kE0] = {"ATE0", absl::Seconds(2), nullptr, /*fatal=*/true};
  steps[kAti] = {"ATI", absl::Seconds(3), nullptr, false};
  steps[kGmi] = {"AT+GMI", absl::Seconds(3), nullptr, false};
  steps[kCgmi] = {"AT+CGMI", absl::Seconds(3), nullptr, false};
  steps[kGmm] = {"AT+GMM", absl::Seconds(3), nullptr, false};
  steps[kCgmm] = {"AT+CGMM", absl::Seconds(3), nullptr, false};
  steps[kFclass] = {"AT+FCLASS=?", absl::Seconds(3), nullptr, false};
  steps[kCpas] = {"AT+CPAS", absl::Seconds(3), nullptr, false};

  RunSequence(queue, std::move(steps), [done = std::move(done)](const SequenceResult& sequence) {
    if (!sequence.ok()) {
      const Result& failed = sequence.results.back();
      done(absl::UnavailableError(
          absl::StrCat("no AT modem: ATE0 answered ", Describe(failed))));
      return;
    }
    const std::vector<Result>& r = sequence.results;
    auto answered = [&](int step) { return r[step].ok(); };
    ModemIdentity id;
    if (answered(kAti)) id.ati = r[kAti].lines;
    if (answered(kGmi)) id.manufacturer = IdentityAnswer(r[kGmi], "+GMI:");
    if (id.manufacturer.empty() && answered(kCgmi)) {
      id.manufacturer = IdentityAnswer(r[kCgmi], "+CGMI:");
    }
    if (answered(kGmm)) id.model = IdentityAnswer(r[kGmm], "+GMM:");
    if (id.model.empty() && answered(kCgmm)) id.model = IdentityAnswer(r[kCgmm], "+CGMM:");
    if (answered(kFclass)) {
      id.fclass_raw = absl::StrJoin(r[kFclass].lines, " ");
      for (const std::string& line : r[kFclass].lines) {
        for (std::string& c : ParseFclassList(line)) id.fclass.push_back(std::move(c));
      }
    }
    id.cgmi = answered(kCgmi);
    id.cpas = answered(kCpas);
    id.profile = PickProfile(id);
    done(std::move(id));
  });
}

}  // namespace linebridge::at
