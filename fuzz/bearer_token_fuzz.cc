// Bearer tokens: the authorization header value (BearerToken, api/auth.h)
// and the token check (SecurityStore::VerifyToken) against a store holding
// a valid token and a revoked one. The input is either the header itself or
// an edit of a real token (bytes written over it at a chosen position), so
// near-valid tokens are explored; only the valid token's exact text may
// authenticate, and only as its principal.
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/auth.h"
#include "fuzz/fuzz_check.h"
#include "store/security_store.h"

namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<linebridge::SecurityStore> store;
  std::string valid;    // alice's token
  std::string revoked;  // bob's, revoked
};
Fixture* fixture = nullptr;

void Cleanup() {
  if (fixture == nullptr) return;
  fixture->store.reset();
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    (void)unlink(absl::StrCat(fixture->dir, "/", linebridge::SecurityStore::kFileName, suffix)
                     .c_str());
  }
  (void)rmdir(fixture->dir.c_str());
}

std::string Issue(linebridge::SecurityStore& store, const std::string& principal) {
  linebridge::v1::AddPrincipalRequest add;
  add.set_name(principal);
  if (!store.AddPrincipal(add).ok()) std::abort();
  linebridge::v1::IssueTokenRequest issue;
  issue.set_principal(principal);
  auto token = store.IssueToken(issue, absl::Now());
  if (!token.ok()) std::abort();
  return token->token();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  char dir[] = "/tmp/bearer_token_fuzz.XXXXXX";
  if (mkdtemp(dir) == nullptr) std::abort();
  fixture = new Fixture;
  fixture->dir = dir;
  auto store = linebridge::SecurityStore::Open(
      linebridge::SecurityStore::PathInDataDir(fixture->dir));
  if (!store.ok()) std::abort();
  fixture->store = *std::move(store);
  fixture->valid = Issue(*fixture->store, "alice");
  fixture->revoked = Issue(*fixture->store, "bob");
  const std::string bob_id = fixture->revoked.substr(4, 16);
  if (!fixture->store->RevokeToken(bob_id).ok()) std::abort();
  std::atexit(Cleanup);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::string header;
  const int mode = in.ConsumeIntegralInRange<int>(0, 2);
  if (mode == 0) {
    header = in.ConsumeRemainingBytesAsString();
  } else {
    std::string token = mode == 1 ? fixture->valid : fixture->revoked;
    const std::string scheme = in.ConsumeBool() ? "Bearer " : "bEARER \t";
    const size_t at = in.ConsumeIntegralInRange<size_t>(0, token.size());
    const std::string patch = in.ConsumeRemainingBytesAsString();
    token.replace(at, std::min(patch.size(), token.size() - at), patch);
    header = scheme + token;
  }
  const absl::StatusOr<absl::string_view> token = linebridge::BearerToken(header);
  if (!token.ok()) {
    FUZZ_CHECK(token.status().code() == absl::StatusCode::kUnauthenticated,
               "a header refused with a code other than UNAUTHENTICATED");
    return 0;
  }
  FUZZ_CHECK(header.size() <= linebridge::kMaxAuthorizationHeader, "an over-long header accepted");
  FUZZ_CHECK(token->data() >= header.data() &&
                 token->data() + token->size() <= header.data() + header.size(),
             "the token is not within the header");
  const absl::StatusOr<linebridge::TokenCheck> check =
      fixture->store->VerifyToken(*token, absl::Now());
  if (!check.ok()) {
    FUZZ_CHECK(check.status().code() == absl::StatusCode::kUnauthenticated,
               "a token refused with a code other than UNAUTHENTICATED");
    FUZZ_CHECK(check.status().message().find(fixture->valid.substr(21)) == std::string::npos,
               "a refusal names the secret");
    return 0;
  }
  FUZZ_CHECK(*token == fixture->valid, "a token other than the issued one authenticated");
  FUZZ_CHECK(check->principal == "alice", "the token authenticated another principal");
  return 0;
}
