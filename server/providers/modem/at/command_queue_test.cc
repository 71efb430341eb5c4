// CommandQueue behaviour the transcripts do not reach: processors, invalid
// commands, write failures, re-entrant callbacks, sequences, noise.
#include "providers/modem/at/command_queue.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/modem/at/sequence.h"
#include "providers/modem/at/test_fakes.h"

namespace linebridge::at {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::FakeClock;
using testing::FakePort;

class QueueTest : public ::testing::Test {
 protected:
  QueueTest() : queue_(std::make_unique<CommandQueue>(port_, clock_)) {
    queue_->SetUnsolicitedHandler([this](const ParsedLine& urc) {
      events_.push_back(absl::StrCat("urc ", UrcKindName(urc.urc), " ", urc.line));
    });
  }

  Command Cmd(std::string text) {
    Command c;
    c.text = text;
    c.done = [this, text](const Result& r) {
      events_.push_back(absl::StrCat(text, " ", Describe(r)));
      results_.push_back(r);
    };
    return c;
  }
  CommandQueue::CommandId Enqueue(Command c) {
    auto id = queue_->Enqueue(std::move(c));
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : 0;
  }
  void Modem(absl::string_view bytes) { queue_->OnBytes(bytes); }

  FakePort port_;
  FakeClock clock_;
  std::unique_ptr<CommandQueue> queue_;
  std::vector<std::string> events_;
  std::vector<Result> results_;
};

TEST_F(QueueTest, ProcessorSeesInformationLinesAndMayContinue) {
  std::vector<std::string> seen;
  Command c = Cmd("ATI");
  c.processor = [&seen](const std::string& line) {
    seen.push_back(line);
    return Step::kContinue;
  };
  Enqueue(std::move(c));
  Modem("ATI\r\r\nRING\r\nline 1\r\nline 2\r\nOK\r\n");
  EXPECT_THAT(seen, ElementsAre("line 1", "line 2"));  // not the echo, not RING
  EXPECT_THAT(events_, ElementsAre("urc ring RING", "ATI OK"));
  EXPECT_THAT(results_[0].lines, ElementsAre("line 1", "line 2"));
}

TEST_F(QueueTest, ProcessorEarlySuccessDrainsUntilTheFinalResult) {
  Command c = Cmd("AT+CGMI");
  c.processor = [](const std::string& line) {
    return line == "Quectel" ? Step::kSuccess : Step::kContinue;
  };
  Enqueue(std::move(c));
  Enqueue(Cmd("AT"));
  EXPECT_EQ(port_.Take(), "AT+CGMI\r");
  Modem("\r\nQuectel\r\n");
  EXPECT_THAT(events_, ElementsAre("AT+CGMI OK"));
  EXPECT_EQ(port_.Take(), "");  // still waiting for AT+CGMI's OK
  Modem("\r\nmore\r\nOK\r\n");
  EXPECT_EQ(port_.Take(), "AT\r");
  EXPECT_EQ(queue_->stats().swallowed, 2u);
}

TEST_F(QueueTest, ProcessorFailureIsRejected) {
  Command c = Cmd("AT+CPAS");
  c.processor = [](const std::string& line) {
    return line == "+CPAS: 4" ? Step::kFailure : Step::kContinue;
  };
  Enqueue(std::move(c));
  Modem("\r\n+CPAS: 4\r\nOK\r\n");
  EXPECT_THAT(events_, ElementsAre("AT+CPAS REJECTED +CPAS: 4"));
  EXPECT_EQ(results_[0].outcome, Outcome::kRejected);
}

TEST_F(QueueTest, VconAnswersAtaWhenExpected) {
  // V.253 modems answer ATA in voice mode with VCON and nothing after it.
  Command c = Cmd("ATA");
  c.expect = {"VCON"};
  c.processor = [](const std::string& line) {
    return line == "VCON" ? Step::kSuccessFinal : Step::kContinue;
  };
  Enqueue(std::move(c));
  Enqueue(Cmd("AT+VLS?"));
  port_.Take();
  Modem("\r\nVCON\r\n");
  EXPECT_THAT(events_, ElementsAre("ATA OK"));
  EXPECT_EQ(port_.Take(), "AT+VLS?\r");  // no drain: VCON was the final answer
  // While idle VCON is unsolicited.
  Modem("\r\n1\r\nOK\r\nVCON\r\n");
  EXPECT_THAT(events_, ElementsAre("ATA OK", "AT+VLS? OK", "urc vcon VCON"));
}

TEST_F(QueueTest, ExplicitAndImplicitExpectations) {
  Command ccwa = Cmd("AT+CCWA=1,2");
  ccwa.expect = {"+CCWA:"};
  Enqueue(std::move(ccwa));
  Modem("\r\n+CCWA: 1,1\r\nOK\r\n");
  // A set command expects nothing implicitly: a +CLIP during AT+CLIP=1 rings.
  Enqueue(Cmd("AT+CLIP=1"));
  Modem("\r\n+CLIP: \"555\",129\r\nOK\r\n");
  // The test form does.
  Enqueue(Cmd("AT+CLIP=?"));
  Modem("\r\n+CLIP: (0,1)\r\nOK\r\n");
  EXPECT_THAT(events_, ElementsAre("AT+CCWA=1,2 OK", "urc clip +CLIP: \"555\",129", "AT+CLIP=1 OK",
                                   "AT+CLIP=? OK"));
  EXPECT_THAT(results_[0].lines, ElementsAre("+CCWA: 1,1"));
  EXPECT_THAT(results_[1].lines, IsEmpty());
  EXPECT_THAT(results_[2].lines, ElementsAre("+CLIP: (0,1)"));
}

TEST_F(QueueTest, InvalidCommandsAreRefused) {
  for (std::string text : {std::string(""), std::string("ATD1\rATH"), std::string("AT\n"),
                           std::string("AT\x01"), std::string("AT\x80"), std::string(2000, 'A')}) {
    Command c;
    c.text = text;
    EXPECT_EQ(queue_->Enqueue(std::move(c)).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(port_.Take(), "");
  EXPECT_TRUE(queue_->idle());
}

TEST_F(QueueTest, WriteFailureFailsTheCommandAndTheQueueGoesOn) {
  port_.fail_with = absl::UnavailableError("port gone");
  Enqueue(Cmd("ATI"));
  EXPECT_THAT(events_, ElementsAre("ATI IO_ERROR port gone"));
  port_.fail_with = absl::OkStatus();
  Enqueue(Cmd("AT"));
  EXPECT_EQ(port_.Take(), "AT\r");
  EXPECT_EQ(clock_.pending(), 1u);  // only AT's timeout
}

TEST_F(QueueTest, WriteFailureWithOthersQueued) {
  Enqueue(Cmd("ATI"));
  Enqueue(Cmd("AT+GMM"));
  Enqueue(Cmd("AT+GMI"));
  port_.fail_with = absl::UnavailableError("port gone");
  Modem("\r\nOK\r\n");
  EXPECT_THAT(events_, ElementsAre("ATI OK", "AT+GMM IO_ERROR port gone",
                                   "AT+GMI IO_ERROR port gone"));
  EXPECT_TRUE(queue_->idle());
}

TEST_F(QueueTest, OverLongLineIsSurvived) {
  Enqueue(Cmd("ATI"));
  Modem("\r\n" + std::string(5000, 'x') + "\r\nshort\r\nOK\r\n");
  EXPECT_THAT(events_, ElementsAre("ATI OK"));
  EXPECT_THAT(results_[0].lines, ElementsAre("short"));
  EXPECT_EQ(queue_->stats().overflows, 1u);
  // Idle, in fragments, with a URC after it.
  for (int i = 0; i < 100; ++i) Modem(std::string(100, 'y'));
  Modem("\r\nRING\r\n");
  EXPECT_THAT(events_, ElementsAre("ATI OK", "urc ring RING"));
  EXPECT_EQ(queue_->stats().overflows, 2u);
}

TEST_F(QueueTest, DoneMayEnqueueAndItIsWrittenAtOnce) {
  Command c = Cmd("ATZ");
  c.done = [this](const Result&) { Enqueue(Cmd("ATE0")); };
  Enqueue(std::move(c));
  Enqueue(Cmd("ATI"));
  EXPECT_EQ(port_.Take(), "ATZ\r");
  Modem("\r\nOK\r\n");
  EXPECT_EQ(port_.Take(), "ATI\r");  // FIFO: ATI was queued first
  Modem("\r\nOK\r\n");
  EXPECT_EQ(port_.Take(), "ATE0\r");
}

TEST_F(QueueTest, CallbacksMayDestroyTheQueue) {
  Command c = Cmd("ATI");
  c.done = [this](const Result&) { queue_.reset(); };
  Enqueue(std::move(c));
  Enqueue(Cmd("AT"));
  Modem("\r\nOK\r\nRING\r\nOK\r\n");  // rest of the batch is not processed
  EXPECT_EQ(queue_, nullptr);
  EXPECT_THAT(events_, IsEmpty());
  clock_.Advance(absl::Seconds(10));  // its timers are gone

  queue_ = std::make_unique<CommandQueue>(port_, clock_);
  queue_->SetUnsolicitedHandler([this](const ParsedLine&) { queue_.reset(); });
  Modem("\r\nRING\r\nRING\r\n");
  EXPECT_EQ(queue_, nullptr);

  queue_ = std::make_unique<CommandQueue>(port_, clock_);
  Command t = Cmd("ATI");
  t.done = [this](const Result&) { queue_.reset(); };
  Enqueue(std::move(t));
  clock_.Advance(absl::Seconds(3));  // destroyed from the timeout
  EXPECT_EQ(queue_, nullptr);
  clock_.Advance(absl::Seconds(10));
}

TEST_F(QueueTest, ProcessorMayCancelItsOwnCommand) {
  CommandQueue::CommandId id = 0;
  Command c = Cmd("AT+CLCC");
  c.processor = [this, &id](const std::string&) {
    queue_->Cancel(id);
    return Step::kSuccess;  // ignored: the command is gone
  };
  id = Enqueue(std::move(c));
  Modem("\r\n+CLCC: 1,0,0,0,0\r\n+CLCC: 2,0,0,0,0\r\nOK\r\n");
  EXPECT_THAT(events_, ElementsAre("AT+CLCC CANCELLED"));
  EXPECT_TRUE(queue_->idle());
}

TEST_F(QueueTest, CancelAllCompletesEverythingInOrder) {
  Enqueue(Cmd("ATI"));
  Enqueue(Cmd("AT+GMM"));
  Enqueue(Cmd("AT+GMI"));
  queue_->CancelAll();
  EXPECT_THAT(events_, ElementsAre("ATI CANCELLED", "AT+GMM CANCELLED", "AT+GMI CANCELLED"));
  EXPECT_FALSE(queue_->Cancel(1));
  EXPECT_EQ(port_.Take(), "ATI\r");
  clock_.Advance(absl::Seconds(2));  // drain timeout
  EXPECT_TRUE(queue_->idle());
}

TEST_F(QueueTest, LateFinalAfterTimeoutIsSwallowedNotGivenToTheNextCommand) {
  Enqueue(Cmd("ATI"));
  Enqueue(Cmd("AT+CPIN?"));
  clock_.Advance(absl::Seconds(3));
  Modem("\r\nOK\r\n");  // ATI's, late
  Modem("\r\n+CME ERROR: 10\r\n");
  EXPECT_THAT(events_, ElementsAre("ATI TIMEOUT", "AT+CPIN? CME_ERROR 10"));
}

TEST_F(QueueTest, RandomNoiseNeverBreaksTheQueue) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> byte(0, 255), len(1, 40), action(0, 9);
  const std::string words[] = {"OK", "ERROR", "RING", "NO CARRIER", "+CLIP: \"1\",129",
                               "DTMF=1", "CONNECT 9600", "+CME ERROR: 3", "\r", "\n"};
  for (int round = 0; round < 3000; ++round) {
    switch (action(rng)) {
      case 0: Enqueue(Cmd("ATI")); break;
      case 1: clock_.Advance(absl::Milliseconds(len(rng) * 100)); break;
      case 2: Modem(words[len(rng) % 10]); break;
      case 3: if (auto id = queue_->in_flight()) queue_->Cancel(*id); break;
      default: {
        std::string noise;
        for (int i = len(rng); i > 0; --i) noise.push_back(static_cast<char>(byte(rng)));
        Modem(noise);
      }
    }
  }
  // Whatever happened, the queue settles and works.
  queue_->CancelAll();
  clock_.Advance(absl::Seconds(5));
  Modem("\r\n");
  events_.clear();
  port_.Take();
  Enqueue(Cmd("AT"));
  EXPECT_EQ(port_.Take(), "AT\r");
  Modem("\r\nOK\r\n");
  EXPECT_THAT(events_, ElementsAre("AT OK"));
}

// --- Sequences -------------------------------------------------------------

class SequenceTest : public QueueTest {
 protected:
  void Run(std::vector<SequenceStep> steps) {
    RunSequence(*queue_, std::move(steps), [this](const SequenceResult& r) {
      done_ = true;
      result_ = r;
    });
  }
  bool done_ = false;
  SequenceResult result_;
};

TEST_F(SequenceTest, RunsStepsInOrderAndKeepsEveryResult) {
  Run({{"ATZ"}, {"ATE0"}, {"AT+FCLASS=8", kDefaultTimeout, nullptr, /*fatal=*/false}, {"ATI"}});
  EXPECT_EQ(port_.Take(), "ATZ\r");
  Modem("\r\nOK\r\n");
  EXPECT_EQ(port_.Take(), "ATE0\r");
  Modem("ATE0\r\r\nOK\r\n");
  EXPECT_EQ(port_.Take(), "AT+FCLASS=8\r");
  Modem("\r\nERROR\r\n");  // not fatal
  EXPECT_EQ(port_.Take(), "ATI\r");
  EXPECT_FALSE(done_);
  Modem("\r\n56000\r\nOK\r\n");
  ASSERT_TRUE(done_);
  EXPECT_TRUE(result_.ok());
  ASSERT_EQ(result_.results.size(), 4u);
  EXPECT_EQ(result_.results[2].outcome, Outcome::kError);
  EXPECT_THAT(result_.results[3].lines, ElementsAre("56000"));
}

TEST_F(SequenceTest, FatalFailureStops) {
  Run({{"ATZ"}, {"AT&F"}, {"ATI"}});
  Modem("\r\nOK\r\n\r\n+CME ERROR: 3\r\n");
  ASSERT_TRUE(done_);
  EXPECT_FALSE(result_.ok());
  EXPECT_EQ(result_.failed_step, 1u);
  EXPECT_EQ(result_.results.size(), 2u);
  EXPECT_EQ(port_.Take(), "ATZ\rAT&F\r");
}

TEST_F(SequenceTest, StepsRunBackToBackAheadOfLaterCommands) {
  Enqueue(Cmd("ATI"));
  Run({{"ATZ"}, {"ATE0"}});
  Enqueue(Cmd("AT+GMM"));
  EXPECT_EQ(port_.Take(), "ATI\r");
  Modem("\r\nOK\r\n");
  EXPECT_EQ(port_.Take(), "ATZ\r");
  Modem("\r\nOK\r\n");
  EXPECT_EQ(port_.Take(), "ATE0\r");  // not AT+GMM
  Modem("\r\nOK\r\n");
  EXPECT_TRUE(done_);
  EXPECT_EQ(port_.Take(), "AT+GMM\r");
}

TEST_F(SequenceTest, CancelEndsEvenANonFatalStep) {
  Run({{"ATZ", kDefaultTimeout, nullptr, false}, {"ATI"}});
  queue_->CancelAll();
  ASSERT_TRUE(done_);
  EXPECT_EQ(result_.failed_step, 0u);
  EXPECT_EQ(result_.results[0].outcome, Outcome::kCancelled);
}

TEST_F(SequenceTest, TimeoutOfANonFatalStepGoesOnAfterTheDrain) {
  Run({{"AT+GMI", absl::Seconds(1), nullptr, false}, {"ATI"}});
  port_.Take();
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(port_.Take(), "");
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(port_.Take(), "ATI\r");
  Modem("\r\nOK\r\n");
  ASSERT_TRUE(done_);
  EXPECT_TRUE(result_.ok());
  EXPECT_EQ(result_.results[0].outcome, Outcome::kTimeout);
}

TEST_F(SequenceTest, BadStepTextFailsTheSequence) {
  Run({{"ATZ"}, {"AT\r"}});
  Modem("\r\nOK\r\n");
  ASSERT_TRUE(done_);
  EXPECT_EQ(result_.failed_step, 1u);
  EXPECT_EQ(result_.results[1].outcome, Outcome::kRejected);
}

TEST_F(SequenceTest, EmptySequenceCompletesAtOnce) {
  Run({});
  EXPECT_TRUE(done_);
  EXPECT_TRUE(result_.ok());
}

// A command that goes online (V.253 +VTR): the bytes after CONNECT are the
// stream's, not lines; nothing is written until Resume; the stream's own
// final result is swallowed before the next command.
class OnlineQueueTest : public QueueTest {
 protected:
  OnlineQueueTest() {
    queue_->SetOnlineHandler([this](absl::string_view bytes) {
      stream_.append(bytes.data(), bytes.size());
      const size_t end = stream_.find("\x10\x03");
      if (end == std::string::npos) return;
      const std::string rest = stream_.substr(end + 2);
      stream_.resize(end);
      queue_->Resume(/*await_final=*/true);
      queue_->OnBytes(rest);
    });
  }
  std::string stream_;
};

TEST_F(OnlineQueueTest, BytesAfterConnectGoToTheStreamInAnyFragmentation) {
  static constexpr char kModem[] = "AT+VTR\r\r\nCONNECT\r\n\x01\r\n\x02OK\r\n\x10\x03\r\nOK\r\n";
  const std::string modem(kModem, sizeof(kModem) - 1);
  for (size_t cut = 1; cut < modem.size(); ++cut) {
    SCOPED_TRACE(cut);
    stream_.clear();
    events_.clear();
    Command c = Cmd("AT+VTR");
    c.goes_online = true;
    Enqueue(std::move(c));
    Enqueue(Cmd("ATH"));
    EXPECT_EQ(port_.Take(), "AT+VTR\r");
    Modem(absl::string_view(modem).substr(0, cut));
    Modem(absl::string_view(modem).substr(cut));
    EXPECT_EQ(stream_, std::string("\x01\r\n\x02OK\r\n", 8));
    // The stream's OK was swallowed; ATH went out after it.
    EXPECT_THAT(events_, ElementsAre("AT+VTR CONNECT"));
    EXPECT_EQ(port_.Take(), "ATH\r");
    EXPECT_FALSE(queue_->online());
    Modem("\r\nOK\r\n");
    EXPECT_THAT(events_, ElementsAre("AT+VTR CONNECT", "ATH OK"));
  }
}

TEST_F(OnlineQueueTest, NothingIsWrittenWhileOnlineAndDrainTimesOut) {
  Command c = Cmd("AT+VTR");
  c.goes_online = true;
  Enqueue(std::move(c));
  Modem("\r\nCONNECT\r\n");
  EXPECT_TRUE(queue_->online());
  EXPECT_FALSE(queue_->idle());
  Enqueue(Cmd("ATH"));
  EXPECT_EQ(port_.Take(), "AT+VTR\r");
  clock_.Advance(absl::Seconds(10));  // no timeout while online
  EXPECT_TRUE(queue_->online());
  EXPECT_EQ(port_.Take(), "");
  Modem("\x10\x03");  // the modem ends the stream but its OK never comes
  EXPECT_EQ(port_.Take(), "");
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(port_.Take(), "ATH\r");
}

TEST_F(OnlineQueueTest, ConnectOfAnOrdinaryCommandStaysInLines) {
  Enqueue(Cmd("ATD123"));
  Modem("\r\nCONNECT 33600\r\n");
  EXPECT_FALSE(queue_->online());
  Enqueue(Cmd("ATI"));
  EXPECT_EQ(port_.Take(), "ATD123\rATI\r");
  // An error instead of CONNECT does not go online either.
  Command c = Cmd("AT+VTR");
  c.goes_online = true;
  Modem("\r\nOK\r\n");
  Enqueue(std::move(c));
  Modem("\r\nERROR\r\n");
  EXPECT_FALSE(queue_->online());
  EXPECT_THAT(events_, ElementsAre("ATD123 CONNECT 33600", "ATI OK", "AT+VTR ERROR"));
}

}  // namespace
}  // namespace linebridge::at
