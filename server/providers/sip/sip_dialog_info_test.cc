#include "providers/sip/sip_dialog_info.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace linebridge::sip {
namespace {

using ::testing::HasSubstr;

// kamailio 5.6's presence_dialoginfo, as NOTIFYed for an inbound call.
constexpr char kKamailioEarly[] = R"(<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="4" state="full" entity="sip:alice@127.0.0.1">
  <dialog id="padi-6b1591cc-24ed-1" call-id="1-9522@127.0.0.1" direction="recipient">
    <state>early</state>
    <remote>
      <identity display="Carol Caller">sip:carol@127.0.0.1:25071</identity>
      <target uri="sip:carol@127.0.0.1:25071"/>
    </remote>
    <local>
      <identity>sip:alice@127.0.0.1:25060</identity>
      <target uri="sip:alice@127.0.0.1:25060"/>
    </local>
  </dialog>
</dialog-info>
)";

std::string Doc(uint32_t version, bool full, const std::string& dialogs) {
  return absl::StrCat(
      "<dialog-info xmlns='urn:ietf:params:xml:ns:dialog-info' version='", version, "' state='",
      full ? "full" : "partial", "' entity='sip:alice@pbx'>", dialogs, "</dialog-info>");
}

std::string Dialog(const std::string& id, const std::string& state,
                   const std::string& extra = "") {
  return absl::StrCat("<dialog id='", id, "' call-id='c-", id, "' direction='recipient'><state>",
                      state, "</state>", extra, "</dialog>");
}

TEST(DialogInfoParseTest, KamailioEarlyInbound) {
  auto doc = ParseDialogInfo(kKamailioEarly);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->version, 4u);
  EXPECT_TRUE(doc->full);
  EXPECT_EQ(doc->entity, "sip:alice@127.0.0.1");
  ASSERT_EQ(doc->dialogs.size(), 1u);
  const DialogInfoDialog& d = doc->dialogs[0];
  EXPECT_EQ(d.id, "padi-6b1591cc-24ed-1");
  EXPECT_EQ(d.call_id, "1-9522@127.0.0.1");
  EXPECT_EQ(d.direction, DialogDirection::kRecipient);
  EXPECT_EQ(d.state, DialogState::kEarly);
  EXPECT_EQ(d.remote.identity, "sip:carol@127.0.0.1:25071");
  EXPECT_EQ(d.remote.display, "Carol Caller");
  EXPECT_EQ(d.remote.target, "sip:carol@127.0.0.1:25071");
  EXPECT_EQ(d.local.identity, "sip:alice@127.0.0.1:25060");
  EXPECT_FALSE(d.held());
}

// RFC 4235 section 4.2's example, with a namespace prefix, tags, the
// state's event and code, and extension elements that are skipped.
TEST(DialogInfoParseTest, Rfc4235ExampleWithPrefixAndExtensions) {
  auto doc = ParseDialogInfo(R"(<?xml version="1.0"?>
<d:dialog-info xmlns:d="urn:ietf:params:xml:ns:dialog-info" xmlns:x="urn:example:ext"
    version="2" state="partial" entity="sip:alice@example.com">
  <d:dialog id="as7d900as8" call-id="a84b4c76e66710" local-tag="1928301774"
      remote-tag="456887766" direction="initiator">
    <d:state event="rejected" code="486">terminated</d:state>
    <x:whatever><d:state>confirmed</d:state></x:whatever>
    <d:duration>274</d:duration>
    <d:remote><d:identity display="Bob">sip:bob@example.org</d:identity></d:remote>
  </d:dialog>
</d:dialog-info>)");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_FALSE(doc->full);
  ASSERT_EQ(doc->dialogs.size(), 1u);
  const DialogInfoDialog& d = doc->dialogs[0];
  EXPECT_EQ(d.local_tag, "1928301774");
  EXPECT_EQ(d.remote_tag, "456887766");
  EXPECT_EQ(d.direction, DialogDirection::kInitiator);
  EXPECT_EQ(d.state, DialogState::kTerminated);
  EXPECT_EQ(d.event, "rejected");
  EXPECT_EQ(d.code, 486);
  EXPECT_EQ(d.remote.display, "Bob");
}

TEST(DialogInfoParseTest, EveryStateAndMultipleDialogs) {
  auto doc = ParseDialogInfo(Doc(1, true,
                                 Dialog("a", "trying") + Dialog("b", "proceeding") +
                                     Dialog("c", "early") + Dialog("d", " Confirmed ") +
                                     Dialog("e", "terminated")));
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->dialogs.size(), 5u);
  EXPECT_EQ(doc->dialogs[0].state, DialogState::kTrying);
  EXPECT_EQ(doc->dialogs[1].state, DialogState::kProceeding);
  EXPECT_EQ(doc->dialogs[2].state, DialogState::kEarly);
  EXPECT_EQ(doc->dialogs[3].state, DialogState::kConfirmed);
  EXPECT_EQ(doc->dialogs[4].state, DialogState::kTerminated);
}

TEST(DialogInfoParseTest, HoldFromRenderingParamOrSdp) {
  auto doc = ParseDialogInfo(Doc(
      1, true,
      Dialog("local", "confirmed",
             "<local><target uri='sip:alice@1.2.3.4'><param pname='+sip.rendering' "
             "pvalue='no'/></target></local>") +
          Dialog("remote", "confirmed",
                 "<remote><target uri='sip:bob@1.2.3.5'><param pname='+sip.rendering' "
                 "pvalue='NO'/></target></remote>") +
          Dialog("sdp", "confirmed",
                 "<local><session-description type='application/sdp'>v=0\r\nm=audio 4000 RTP/AVP "
                 "0\r\na=sendonly\r\n</session-description></local>") +
          Dialog("active", "confirmed",
                 "<local><target uri='sip:alice@1.2.3.4'><param pname='+sip.rendering' "
                 "pvalue='yes'/></target><session-description type='application/sdp'>v=0\r\n"
                 "a=sendrecv\r\n</session-description></local>")));
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->dialogs.size(), 4u);
  EXPECT_TRUE(doc->dialogs[0].held());
  EXPECT_TRUE(doc->dialogs[1].held());
  EXPECT_TRUE(doc->dialogs[2].held());
  EXPECT_FALSE(doc->dialogs[3].held());
}

TEST(DialogInfoParseTest, Garbage) {
  const std::string cases[] = {
      "",
      "not xml at all",
      "<dialog-info version='1' state='full'/>",  // no namespace
      "<x xmlns='urn:ietf:params:xml:ns:dialog-info' version='1' state='full'/>",
      Doc(1, true, "<dialog id='a'><state>ringing</state></dialog>"),
      Doc(1, true, "<dialog><state>early</state></dialog>"),
      Doc(1, true, "<dialog id='a'></dialog>"),
      "<dialog-info xmlns='urn:ietf:params:xml:ns:dialog-info' version='x' state='full'/>",
      "<dialog-info xmlns='urn:ietf:params:xml:ns:dialog-info' version='1' state='half'/>",
      Doc(1, true, Dialog("a", "early")).substr(0, 60),
      "<!DOCTYPE d [<!ENTITY e 'x'>]><dialog-info xmlns='urn:ietf:params:xml:ns:dialog-info' "
      "version='1' state='full'/>",
      std::string("<dialog-info\0", 13),
  };
  for (const std::string& c : cases) {
    EXPECT_FALSE(ParseDialogInfo(c).ok()) << c;
  }
  std::string many;
  for (int i = 0; i <= kMaxDialogInfoDialogs; ++i) many += Dialog(absl::StrCat(i), "early");
  auto too_many = ParseDialogInfo(Doc(1, true, many));
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(too_many.status().message(), HasSubstr("more than 64 dialogs"));
  std::string deep;
  for (int i = 0; i < 20; ++i) deep += "<x:a xmlns:x='urn:x'>";
  for (int i = 0; i < 20; ++i) deep += "</x:a>";
  EXPECT_FALSE(ParseDialogInfo(Doc(1, true, deep)).ok());
  EXPECT_FALSE(ParseDialogInfo(std::string(kMaxDialogInfoBytes + 1, ' ')).ok());
}

DialogInfo MustParse(const std::string& xml) {
  auto doc = ParseDialogInfo(xml);
  EXPECT_TRUE(doc.ok()) << doc.status();
  return doc.ok() ? *doc : DialogInfo();
}

TEST(DialogInfoViewTest, FullThenPartialUpdatesAndEnds) {
  DialogInfoView view;
  std::vector<DialogInfoDialog> changed;
  EXPECT_EQ(view.Apply(MustParse(Doc(1, true, Dialog("a", "early"))), &changed),
            DialogInfoView::Result::kApplied);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].state, DialogState::kEarly);
  changed.clear();
  // A second dialog in a partial document: "a" is left as it was.
  EXPECT_EQ(view.Apply(MustParse(Doc(2, false, Dialog("b", "trying"))), &changed),
            DialogInfoView::Result::kApplied);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].id, "b");
  EXPECT_EQ(view.dialogs().size(), 2u);
  changed.clear();
  // Unchanged dialogs are not reported again.
  EXPECT_EQ(view.Apply(MustParse(Doc(3, false, Dialog("a", "early") + Dialog("b", "confirmed"))),
                       &changed),
            DialogInfoView::Result::kApplied);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].state, DialogState::kConfirmed);
  changed.clear();
  EXPECT_EQ(view.Apply(MustParse(Doc(4, false, Dialog("a", "terminated"))), &changed),
            DialogInfoView::Result::kApplied);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].id, "a");
  EXPECT_EQ(changed[0].state, DialogState::kTerminated);
  EXPECT_EQ(view.dialogs().size(), 1u);
  changed.clear();
  // A full document that leaves "b" out ends it.
  EXPECT_EQ(view.Apply(MustParse(Doc(5, true, "")), &changed), DialogInfoView::Result::kApplied);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].id, "b");
  EXPECT_EQ(changed[0].state, DialogState::kTerminated);
  EXPECT_TRUE(view.dialogs().empty());
}

TEST(DialogInfoViewTest, VersionsStaleGapAndNewSubscription) {
  DialogInfoView view;
  std::vector<DialogInfoDialog> changed;
  // A partial document first: nothing to apply it to.
  EXPECT_EQ(view.Apply(MustParse(Doc(7, false, Dialog("a", "early"))), &changed),
            DialogInfoView::Result::kGap);
  EXPECT_EQ(view.Apply(MustParse(Doc(7, true, Dialog("a", "early"))), &changed),
            DialogInfoView::Result::kApplied);
  changed.clear();
  EXPECT_EQ(view.Apply(MustParse(Doc(7, true, Dialog("a", "confirmed"))), &changed),
            DialogInfoView::Result::kStale);
  EXPECT_EQ(view.Apply(MustParse(Doc(6, false, Dialog("a", "confirmed"))), &changed),
            DialogInfoView::Result::kStale);
  EXPECT_EQ(view.Apply(MustParse(Doc(9, false, Dialog("a", "confirmed"))), &changed),
            DialogInfoView::Result::kGap);
  EXPECT_TRUE(changed.empty());
  // A full document repairs a gap at any later version.
  EXPECT_EQ(view.Apply(MustParse(Doc(12, true, Dialog("a", "confirmed"))), &changed),
            DialogInfoView::Result::kApplied);
  ASSERT_EQ(changed.size(), 1u);
  changed.clear();
  // A new subscription numbers from 1 again; its first full document ends
  // what is gone.
  view.NewSubscription();
  EXPECT_EQ(view.Apply(MustParse(Doc(1, true, Dialog("b", "early"))), &changed),
            DialogInfoView::Result::kApplied);
  ASSERT_EQ(changed.size(), 2u);
}

TEST(DialogInfoViewTest, TerminatedNeverSeenIsNotReported) {
  DialogInfoView view;
  std::vector<DialogInfoDialog> changed;
  EXPECT_EQ(view.Apply(MustParse(Doc(1, true, Dialog("old", "terminated"))), &changed),
            DialogInfoView::Result::kApplied);
  EXPECT_TRUE(changed.empty());
}

}  // namespace
}  // namespace linebridge::sip
