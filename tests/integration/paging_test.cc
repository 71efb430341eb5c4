// ListLines and ListCalls paging (page_size / page_token / next_page_token)
// against a real server: every entry once, in id order, and replies without
// page_size unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"
#include "test_server.h"

namespace linebridge::itest {
namespace {

constexpr int kLines = 25;

std::string ManyLinesConfig() {
  std::string c = "providers { sim { name: \"sim\" ";
  for (int i = 0; i < kLines; ++i) absl::StrAppend(&c, "extensions { number: \"", 1000 + i, "\" } ");
  absl::StrAppend(&c, "externals { number: \"5550100\" behavior: SIM_BEHAVIOR_ANSWER } } }");
  return c;
}

std::vector<std::string> LineIds(const v1::ListLinesResponse& r) {
  std::vector<std::string> ids;
  for (const auto& l : r.lines()) ids.push_back(l.id());
  return ids;
}

TEST(PagingTest, ListLinesWithoutPageSizeReturnsEveryLineAndNoToken) {
  auto t = TestServer::Start(ManyLinesConfig());
  ASSERT_NE(t, nullptr);
  v1::ListLinesResponse all;
  ASSERT_TRUE(Rpc(t->telephony(), &v1::Telephony::Stub::ListLines, v1::ListLinesRequest(), &all)
                  .ok());
  EXPECT_EQ(all.lines_size(), kLines);
  EXPECT_EQ(all.next_page_token(), "");
}

TEST(PagingTest, ListLinesPagesVisitEveryLineOnceInOrder) {
  auto t = TestServer::Start(ManyLinesConfig());
  ASSERT_NE(t, nullptr);
  v1::ListLinesResponse all;
  ASSERT_TRUE(Rpc(t->telephony(), &v1::Telephony::Stub::ListLines, v1::ListLinesRequest(), &all)
                  .ok());
  for (uint32_t size : {1u, 7u, 24u, 25u, 26u, 100000u}) {
    SCOPED_TRACE(size);
    std::vector<std::string> paged;
    v1::ListLinesRequest req;
    req.set_page_size(size);
    int pages = 0;
    while (true) {
      v1::ListLinesResponse page;
      ASSERT_TRUE(Rpc(t->telephony(), &v1::Telephony::Stub::ListLines, req, &page).ok());
      ++pages;
      ASSERT_LE(page.lines_size(), static_cast<int>(size));
      for (const auto& id : LineIds(page)) paged.push_back(id);
      if (page.next_page_token().empty()) break;
      ASSERT_EQ(page.lines_size(), static_cast<int>(size)) << "a short page that is not the last";
      req.set_page_token(page.next_page_token());
      ASSERT_LE(pages, kLines + 1);
    }
    EXPECT_EQ(paged, LineIds(all));
    EXPECT_EQ(pages, (kLines + static_cast<int>(std::min<uint32_t>(size, kLines)) - 1) /
                         static_cast<int>(std::min<uint32_t>(size, kLines)));
  }
}

TEST(PagingTest, ListLinesPagingKeepsTheProviderFilter) {
  auto t = TestServer::Start(ManyLinesConfig());
  ASSERT_NE(t, nullptr);
  v1::ListLinesRequest req;
  req.set_provider("no-such-provider");
  req.set_page_size(5);
  v1::ListLinesResponse page;
  ASSERT_TRUE(Rpc(t->telephony(), &v1::Telephony::Stub::ListLines, req, &page).ok());
  EXPECT_EQ(page.lines_size(), 0);
  EXPECT_EQ(page.next_page_token(), "");
  req.set_provider("sim");
  ASSERT_TRUE(Rpc(t->telephony(), &v1::Telephony::Stub::ListLines, req, &page).ok());
  EXPECT_EQ(page.lines_size(), 5);
  EXPECT_EQ(page.next_page_token(), page.lines(4).id());
}

TEST(PagingTest, OversizedPageTokenIsInvalidParam) {
  auto t = TestServer::Start(ManyLinesConfig());
  ASSERT_NE(t, nullptr);
  v1::ListLinesRequest lreq;
  lreq.set_page_size(3);
  lreq.set_page_token(std::string(300, 'x'));
  v1::ListLinesResponse lresp;
  ExpectTapi(Rpc(t->telephony(), &v1::Telephony::Stub::ListLines, lreq, &lresp),
             grpc::StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM, "ListLines");
  v1::ListCallsRequest creq;
  creq.set_page_token(std::string(300, 'x'));
  v1::ListCallsResponse cresp;
  ExpectTapi(Rpc(t->telephony(), &v1::Telephony::Stub::ListCalls, creq, &cresp),
             grpc::StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM, "ListCalls");
}

TEST(PagingTest, ListCallsPagesVisitEveryCallOnceInOrder) {
  auto t = TestServer::Start(ManyLinesConfig());
  ASSERT_NE(t, nullptr);
  for (int i = 0; i < 12; ++i) {
    v1::Call call;
    ASSERT_TRUE(MakeCall(t->telephony(), absl::StrCat("sim/", 1000 + i), "5550100", &call).ok());
  }
  v1::ListCallsResponse all;
  ASSERT_TRUE(Rpc(t->telephony(), &v1::Telephony::Stub::ListCalls, v1::ListCallsRequest(), &all)
                  .ok());
  ASSERT_EQ(all.calls_size(), 12);
  EXPECT_EQ(all.next_page_token(), "");
  std::vector<std::string> want, got;
  for (const auto& c : all.calls()) want.push_back(c.id());
  v1::ListCallsRequest req;
  req.set_page_size(5);
  std::vector<int> sizes;
  while (true) {
    v1::ListCallsResponse page;
    ASSERT_TRUE(Rpc(t->telephony(), &v1::Telephony::Stub::ListCalls, req, &page).ok());
    sizes.push_back(page.calls_size());
    for (const auto& c : page.calls()) got.push_back(c.id());
    if (page.next_page_token().empty()) break;
    req.set_page_token(page.next_page_token());
    ASSERT_LT(sizes.size(), 10u);
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(sizes, (std::vector<int>{5, 5, 2}));
  // With the line filter: one call on that line, one page.
  req.Clear();
  req.set_line_id("sim/1003");
  req.set_page_size(1);
  v1::ListCallsResponse one;
  ASSERT_TRUE(Rpc(t->telephony(), &v1::Telephony::Stub::ListCalls, req, &one).ok());
  EXPECT_EQ(one.calls_size(), 1);
  EXPECT_EQ(one.next_page_token(), "");
}

}  // namespace
}  // namespace linebridge::itest
