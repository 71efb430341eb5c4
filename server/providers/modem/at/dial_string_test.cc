#include "providers/modem/at/dial_string.h"

#include <string>

#include "gtest/gtest.h"
#include "linebridge/lineerr.h"

namespace linebridge::at {
namespace {

constexpr ModemProfile kHayes = ModemProfile::kHayesData;
constexpr ModemProfile kVoice = ModemProfile::kV253Voice;
constexpr ModemProfile k3gpp = ModemProfile::k3gppCellular;

void ExpectInvalid(absl::string_view digits, ModemProfile profile) {
  absl::Status status = ValidateModemDialString(digits, profile);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
      << "\"" << digits << "\" on " << ProfileName(profile);
  EXPECT_EQ(LineErrOf(status), LINEERR_INVALADDRESS) << status;
}

TEST(ValidateModemDialString, Accepts) {
  for (ModemProfile p : {kHayes, kVoice, k3gpp}) {
    for (absl::string_view ok : {"5551234", "0123456789", "*#ABCD", "9W5551234", "T5551234",
                                 "P5551234", "5551234,,,123#", "9@5551234", "!5551234",
                                 "12345678901234567890123456789012345678901234567890"}) {
      EXPECT_TRUE(ValidateModemDialString(ok, p).ok()) << ok << " on " << ProfileName(p);
    }
  }
  EXPECT_TRUE(ValidateModemDialString("555;", k3gpp).ok());
  EXPECT_TRUE(ValidateModemDialString("*31#5551234;", k3gpp).ok());
}

TEST(ValidateModemDialString, Rejects) {
  for (ModemProfile p : {kHayes, kVoice, k3gpp}) {
    ExpectInvalid("", p);
    ExpectInvalid("12;ATZ", p);
    ExpectInvalid("1\r\nATH", p);
    ExpectInvalid("1\rATH", p);
    ExpectInvalid("1\n", p);
    ExpectInvalid("ATD5", p);
    ExpectInvalid("5AT1", p);  // A and T are dial characters, "AT" together is not
    ExpectInvalid("12;3", p);
    ExpectInvalid(";", p);
    ExpectInvalid("555;;", p);
    ExpectInvalid(std::string("555\0", 4), p);
    ExpectInvalid("555\x1b", p);
    ExpectInvalid("555\x7f", p);
    ExpectInvalid("555\xc3\xa9", p);
    ExpectInvalid("555 1234", p);
    ExpectInvalid("555-1234", p);
    ExpectInvalid("+4930123456", p);
    ExpectInvalid("5551234e", p);
    ExpectInvalid("abcd", p);  // upper case only
    ExpectInvalid("E", p);
    ExpectInvalid(">SM1;", p);
    ExpectInvalid(std::string(81, '5'), p);
  }
  ExpectInvalid("555;", kHayes);
  ExpectInvalid("555;", kVoice);
}

TEST(ModemDialCommand, AddsTheVoiceSemicolonOn3gppOnly) {
  EXPECT_EQ(*ModemDialCommand("5551234", kHayes), "ATD5551234");
  EXPECT_EQ(*ModemDialCommand("T5551234", kVoice), "ATDT5551234");
  EXPECT_EQ(*ModemDialCommand("5551234", k3gpp), "ATD5551234;");
  EXPECT_EQ(*ModemDialCommand("5551234;", k3gpp), "ATD5551234;");
  EXPECT_EQ(*ModemDialCommand("5551234", k3gpp, /*voice=*/false), "ATD5551234");
  EXPECT_EQ(LineErrOf(ModemDialCommand("5551234;", k3gpp, false).status()), LINEERR_INVALADDRESS);
  EXPECT_EQ(LineErrOf(ModemDialCommand("12;ATZ", kHayes).status()), LINEERR_INVALADDRESS);
}

}  // namespace
}  // namespace linebridge::at
