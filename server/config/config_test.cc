#include "config/config.h"

#include <pty.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace linebridge {
namespace {

using ::testing::HasSubstr;
using v1::config::ServerConfig;
using v1::config::SimConfig;

// A fresh directory under the test temp dir.
std::string MakeTempDir() {
  std::string tmpl = testing::TempDir();
  if (tmpl.empty() || tmpl.back() != '/') tmpl += '/';
  tmpl += "config_test.XXXXXX";
  char* dir = mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

std::string WriteFile(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  EXPECT_TRUE(out.good());
  return path;
}

// The message of the error ParseConfigText(text, "t.conf") gives ("" if OK).
std::string ErrorOf(const std::string& text) {
  absl::StatusOr<ServerConfig> c = ParseConfigText(text, "t.conf");
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
  return std::string(c.status().message());
}

// A valid sim provider (lines 1-3) with `body` added inside `sim { ... }`,
// starting on line 4.
std::string Sim(const std::string& body) {
  return absl::StrCat("providers {\n  sim {\n    extensions { number: \"100\" name: \"A\" }\n",
                      body, "  }\n}\n");
}

TEST(ConfigDefaults, EmptyPathGivesDefaults) {
  absl::StatusOr<ServerConfig> c = LoadConfig("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen(), "127.0.0.1:50051");
  EXPECT_EQ(c->data_dir(), "./linebridge-data");
  EXPECT_EQ(c->journal_capacity(), 65536u);
  EXPECT_EQ(c->subscriber_queue_limit(), 16384u);
  EXPECT_EQ(c->max_batch(), 256u);
  EXPECT_EQ(c->session_grace_period_ms(), 30000u);
  EXPECT_EQ(c->disconnected_linger_ms(), 5000u);
  ASSERT_EQ(c->providers_size(), 1);
  ASSERT_TRUE(c->providers(0).has_sim());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(c->providers(0).sim(),
                                                                 DefaultSimConfig()));
}

TEST(ConfigDefaults, DefaultSim) {
  const SimConfig sim = DefaultSimConfig();
  EXPECT_EQ(sim.name(), "sim");
  EXPECT_EQ(sim.ring_ms(), 4000u);
  EXPECT_EQ(sim.default_no_answer_rings(), 3u);
  EXPECT_EQ(sim.park_orbit_base(), "700");
  EXPECT_EQ(sim.outside_prefix(), "");
  const char* names[] = {"Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi"};
  ASSERT_EQ(sim.extensions_size(), 9);
  for (int i = 0; i < 8; ++i) {
    const auto& e = sim.extensions(i);
    EXPECT_EQ(e.number(), absl::StrCat(100 + i));
    EXPECT_EQ(e.name(), names[i]);
    EXPECT_EQ(e.auto_answer_ms(), 0u);
    EXPECT_EQ(e.max_calls(), 4u);
    EXPECT_EQ(e.pickup_group(), i < 4 ? "sales" : "");
  }
  EXPECT_EQ(sim.extensions(8).number(), "199");
  EXPECT_EQ(sim.extensions(8).name(), "Echo Desk");
  EXPECT_EQ(sim.extensions(8).auto_answer_ms(), 1u);
  EXPECT_EQ(sim.extensions(8).max_calls(), 4u);

  struct Want {
    const char* number;
    const char* name;
    v1::config::SimBehavior behavior;
    uint32_t delay_ms;
    const char* digits;
  };
  const Want want[] = {
      {"5550100", "Weather Line", v1::config::SIM_BEHAVIOR_ANSWER, 0, ""},
      {"5550101", "Busy Shop", v1::config::SIM_BEHAVIOR_BUSY, 0, ""},
      {"5550102", "Nobody Home", v1::config::SIM_BEHAVIOR_NO_ANSWER, 20000, ""},
      {"5550103", "Rejecting Desk", v1::config::SIM_BEHAVIOR_REJECT, 0, ""},
      {"5550104", "Overloaded Trunk", v1::config::SIM_BEHAVIOR_CONGESTION, 0, ""},
      {"5550105", "IVR", v1::config::SIM_BEHAVIOR_ANSWER, 500, "1#"},
  };
  ASSERT_EQ(sim.externals_size(), 6);
  for (int i = 0; i < 6; ++i) {
    const auto& x = sim.externals(i);
    EXPECT_EQ(x.number(), want[i].number);
    EXPECT_EQ(x.name(), want[i].name);
    EXPECT_EQ(x.behavior(), want[i].behavior);
    EXPECT_EQ(x.delay_ms(), want[i].delay_ms);
    EXPECT_EQ(x.send_digits(), want[i].digits);
    EXPECT_EQ(x.hangup_after_ms(), 0u);
  }
}

TEST(ConfigDefaults, KeepsSetValuesAndFillsNested) {
  ServerConfig c;
  c.set_listen("0.0.0.0:1");
  c.set_allow_insecure_non_loopback(true);  // plaintext off loopback (see ConfigTransport)
  c.set_journal_capacity(100);
  c.add_providers()->mutable_sim()->add_extensions()->set_number("1");
  ApplyDefaults(&c);
  EXPECT_EQ(c.listen(), "0.0.0.0:1");
  EXPECT_EQ(c.journal_capacity(), 100u);
  EXPECT_EQ(c.subscriber_queue_limit(), 100u);  // default capped at journal_capacity
  ASSERT_EQ(c.providers_size(), 1);
  EXPECT_EQ(c.providers(0).sim().name(), "sim");
  EXPECT_EQ(c.providers(0).sim().ring_ms(), 4000u);
  EXPECT_EQ(c.providers(0).sim().park_orbit_base(), "700");
  EXPECT_EQ(c.providers(0).sim().extensions(0).max_calls(), 4u);
  // No externals listed: the documented defaults (5550100-5550105).
  EXPECT_EQ(c.providers(0).sim().externals_size(), 6);
  EXPECT_TRUE(ValidateConfig(c, ParseLocations()).ok());
}

// docs/configuration.md: extensions default to 100-107 and 199, externals to
// 5550100-5550105, also in a block that sets only its name.
TEST(ConfigDefaults, SimBlockWithOnlyItsNameGetsTheDocumentedLines) {
  absl::StatusOr<ServerConfig> c =
      ParseConfigText("providers { sim { name: \"pbx\" } }\n", "t.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->providers_size(), 1);
  const SimConfig& sim = c->providers(0).sim();
  EXPECT_EQ(sim.name(), "pbx");
  const SimConfig defaults = DefaultSimConfig();
  ASSERT_EQ(sim.extensions_size(), 9);
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(sim.extensions(i).SerializeAsString(), defaults.extensions(i).SerializeAsString());
  }
  EXPECT_EQ(sim.extensions(0).number(), "100");
  EXPECT_EQ(sim.extensions(7).number(), "107");
  EXPECT_EQ(sim.extensions(8).number(), "199");
  ASSERT_EQ(sim.externals_size(), 6);
  EXPECT_EQ(sim.externals(0).number(), "5550100");
  EXPECT_EQ(sim.externals(5).number(), "5550105");
  // Listing extensions replaces the default ones (externals still default).
  absl::StatusOr<ServerConfig> own = ParseConfigText(
      "providers { sim { name: \"pbx\" extensions { number: \"20\" } } }\n", "t.conf");
  ASSERT_TRUE(own.ok()) << own.status();
  ASSERT_EQ(own->providers(0).sim().extensions_size(), 1);
  EXPECT_EQ(own->providers(0).sim().extensions(0).number(), "20");
  EXPECT_EQ(own->providers(0).sim().externals_size(), 6);
}

TEST(ConfigLoad, FullValidFile) {
  const std::string dir = MakeTempDir();
  const std::string path = WriteFile(dir, "full.conf", R"(
listen: "[::1]:6000"
data_dir: "/var/lib/lb"
journal_capacity: 1024
subscriber_queue_limit: 512
max_batch: 64
session_grace_period_ms: 86400000
disconnected_linger_ms: 100
providers {
  sim {
    name: "pbx-1"
    ring_ms: 1000
    default_no_answer_rings: 2
    park_orbit_base: "800"
    outside_prefix: "0"
    extensions { number: "10" name: "Ten" auto_answer_ms: 5 pickup_group: "g_1" max_calls: 16 }
    extensions { number: "11" }
    externals {
      number: "12345678901234567890" name: "Far" behavior: SIM_BEHAVIOR_ANSWER
      delay_ms: 7 send_digits: "0123456789*#ABCD" hangup_after_ms: 9
    }
  }
}
providers { sim { name: "b" } }
)");
  absl::StatusOr<ServerConfig> c = LoadConfigFile(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen(), "[::1]:6000");
  EXPECT_EQ(c->data_dir(), "/var/lib/lb");
  EXPECT_EQ(c->journal_capacity(), 1024u);
  EXPECT_EQ(c->subscriber_queue_limit(), 512u);
  EXPECT_EQ(c->max_batch(), 64u);
  EXPECT_EQ(c->session_grace_period_ms(), 86400000u);
  EXPECT_EQ(c->disconnected_linger_ms(), 100u);
  ASSERT_EQ(c->providers_size(), 2);
  const SimConfig& s = c->providers(0).sim();
  EXPECT_EQ(s.name(), "pbx-1");
  EXPECT_EQ(s.ring_ms(), 1000u);
  EXPECT_EQ(s.default_no_answer_rings(), 2u);
  EXPECT_EQ(s.park_orbit_base(), "800");
  EXPECT_EQ(s.outside_prefix(), "0");
  ASSERT_EQ(s.extensions_size(), 2);
  EXPECT_EQ(s.extensions(0).auto_answer_ms(), 5u);
  EXPECT_EQ(s.extensions(0).pickup_group(), "g_1");
  EXPECT_EQ(s.extensions(0).max_calls(), 16u);
  EXPECT_EQ(s.extensions(1).max_calls(), 4u);  // default
  ASSERT_EQ(s.externals_size(), 1);
  EXPECT_EQ(s.externals(0).send_digits(), "0123456789*#ABCD");
  EXPECT_EQ(s.externals(0).hangup_after_ms(), 9u);
  EXPECT_EQ(c->providers(1).sim().name(), "b");
  EXPECT_EQ(c->providers(1).sim().ring_ms(), 4000u);
  // Only a name: the documented default extensions (100-107, 199).
  EXPECT_EQ(c->providers(1).sim().extensions_size(), 9);

  // --print_config output reads back to the same config.
  absl::StatusOr<ServerConfig> again = ParseConfigText(ConfigToText(*c), "printed");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*c, *again));
  EXPECT_EQ(LoadConfig(path)->DebugString(), c->DebugString());
}

TEST(ConfigLoad, ExampleFileLoads) {
  absl::StatusOr<ServerConfig> c = LoadConfigFile(LINEBRIDGE_EXAMPLE_CONFIG);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->providers_size(), 2);
  EXPECT_EQ(c->providers(0).sim().name(), "office");
  EXPECT_EQ(c->providers(0).sim().outside_prefix(), "9");
  EXPECT_EQ(c->providers(0).sim().externals_size(), 5);
  EXPECT_EQ(c->providers(1).sim().name(), "lab");
  // The example shows every field of every message (allow_insecure_non_loopback,
  // health, metrics and the TLS file names only in comments: they would not be
  // good examples, need files or take fixed ports).
  ServerConfig raw;
  std::string text;
  {
    std::ifstream in(LINEBRIDGE_EXAMPLE_CONFIG);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_TRUE(ParseConfigTextRaw(text, "example", &raw, nullptr).ok());
  const auto all_set = [](const google::protobuf::Message& m) {
    std::vector<const google::protobuf::FieldDescriptor*> set;
    m.GetReflection()->ListFields(m, &set);
    const int commented_out =
        m.GetDescriptor()->FindFieldByName("allow_insecure_non_loopback") != nullptr ? 4 : 0;
    // A oneof holds one of its fields at a time.
    int settable = m.GetDescriptor()->field_count();
    for (int i = 0; i < m.GetDescriptor()->oneof_decl_count(); ++i) {
      settable -= m.GetDescriptor()->oneof_decl(i)->field_count() - 1;
    }
    return static_cast<int>(set.size()) + commented_out == settable;
  };
  EXPECT_TRUE(all_set(raw));
  EXPECT_TRUE(raw.has_tls());
  EXPECT_FALSE(TlsEnabled(*c));
  for (const char* commented : {"# health {", "#   listen: \"127.0.0.1:50052\"", "# metrics {",
                                "#   listen: \"127.0.0.1:9464\"", "# store {", "#   postgres {"}) {
    EXPECT_THAT(text, ::testing::HasSubstr(commented));
  }
  EXPECT_TRUE(all_set(raw.providers(0)));
  EXPECT_TRUE(all_set(raw.providers(0).sim()));
  EXPECT_TRUE(all_set(raw.providers(0).sim().externals(0)));
  // Every extension field is used by some extension.
  std::set<int> used;
  for (const auto& e : raw.providers(0).sim().extensions()) {
    std::vector<const google::protobuf::FieldDescriptor*> set;
    e.GetReflection()->ListFields(e, &set);
    for (const auto* f : set) used.insert(f->number());
  }
  EXPECT_EQ(static_cast<int>(used.size()), v1::config::SimExtension::descriptor()->field_count());
}

TEST(ConfigLoad, SyntaxErrorHasFileLineColumn) {
  EXPECT_EQ(ErrorOf("listen: \"a:1\"\ndata_dir \"x\"\n"),
            "t.conf:2:10: Expected \":\", found \"\"x\"\".");
  EXPECT_EQ(ErrorOf("providers {\n  sim {\n    name: \"x\"\n"),
            "t.conf:4:1: Expected identifier, got: ");
  EXPECT_EQ(ErrorOf("max_batch: -1\n"),
            "t.conf:1:12: Expected integer, got: -");
}

TEST(ConfigLoad, UnknownFieldNamesFieldAndLine) {
  const std::string err = ErrorOf("listen: \"a:1\"\n\n   listne: \"b:2\"\n");
  EXPECT_THAT(err, HasSubstr("t.conf:3:"));
  EXPECT_THAT(err, HasSubstr("no field named \"listne\""));
  const std::string nested = ErrorOf(Sim("    extensions { number: \"1\" rings: 3 }\n"));
  EXPECT_THAT(nested, HasSubstr("t.conf:4:"));
  EXPECT_THAT(nested, HasSubstr("no field named \"rings\""));
  EXPECT_THAT(ErrorOf(Sim("    externals { number: \"1\" behavior: SIM_BEHAVIOR_MAYBE }\n")),
              HasSubstr("t.conf:4:"));
}

TEST(ConfigLoad, UnreadableFile) {
  const std::string dir = MakeTempDir();
  absl::StatusOr<ServerConfig> missing = LoadConfigFile(dir + "/nope.conf");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(dir + "/nope.conf"));
  EXPECT_THAT(missing.status().message(), HasSubstr("No such file or directory"));

  absl::StatusOr<ServerConfig> is_dir = LoadConfigFile(dir);
  EXPECT_FALSE(is_dir.ok());
  EXPECT_THAT(is_dir.status().message(), HasSubstr(dir));
  EXPECT_THAT(is_dir.status().message(), HasSubstr("Is a directory"));

  if (geteuid() != 0) {  // root reads anything
    const std::string path = WriteFile(dir, "secret.conf", "listen: \"a:1\"\n");
    ASSERT_EQ(chmod(path.c_str(), 0), 0);
    absl::StatusOr<ServerConfig> denied = LoadConfigFile(path);
    EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(denied.status().message(), HasSubstr(path));
    EXPECT_THAT(denied.status().message(), HasSubstr("Permission denied"));
  }
}

TEST(ConfigValidate, DuplicateExtensionExactMessage) {
  const std::string text =
      "# lb.conf\n"                          // 1
      "listen: \"127.0.0.1:50051\"\n"        // 2
      "providers {\n"                        // 3
      "  sim {\n"                            // 4
      "    name: \"sim\"\n"                  // 5
      "    extensions { number: \"100\" }\n" // 6
      "    extensions { number: \"101\" }\n" // 7
      "    extensions { number: \"102\" }\n" // 8
      "    extensions {\n"                   // 9
      "      name: \"Dup\"\n"                // 10
      "      max_calls: 2\n"                 // 11
      "      number: \"101\"\n"              // 12
      "    }\n"
      "  }\n"
      "}\n";
  absl::StatusOr<ServerConfig> c = ParseConfigText(text, "lb.conf");
  EXPECT_EQ(c.status(),
            absl::InvalidArgumentError(
                "lb.conf:12: providers[0].sim.extensions[3].number: duplicate extension \"101\""));
}

TEST(ConfigValidate, ExactMessages) {
  EXPECT_EQ(ErrorOf("\nlisten: \"localhost\"\n"),
            "t.conf:2: listen: \"localhost\" is not host:port (IPv6 as [::1]:port)");
  EXPECT_EQ(ErrorOf("listen: \"[::1]:65536\"\n"),
            "t.conf:1: listen: port \"65536\" out of range 0..65535");
  EXPECT_EQ(ErrorOf("journal_capacity: 15\n"),
            "t.conf:1: journal_capacity: 15 out of range [16, 16777216]");
  EXPECT_EQ(ErrorOf("journal_capacity: 100\nsubscriber_queue_limit: 101\n"),
            "t.conf:2: subscriber_queue_limit: 101 out of range [1, 100] (at most "
            "journal_capacity)");
  EXPECT_EQ(ErrorOf("max_batch: 65537\n"), "t.conf:1: max_batch: 65537 out of range [1, 65536]");
  EXPECT_EQ(ErrorOf("session_grace_period_ms: 86400001\n"),
            "t.conf:1: session_grace_period_ms: 86400001 exceeds 86400000 (one day)");
  EXPECT_EQ(ErrorOf("providers {\n}\n"),
            "t.conf:1: providers[0]: no provider kind set (expected sim { ... } or modem { ... })");
  // A field given its default reports the line of its enclosing message.
  EXPECT_EQ(ErrorOf("providers { sim {} }\n\nproviders {\n  sim {}\n}\n"),
            "t.conf:4: providers[1].sim.name: duplicate sim name \"sim\"");
  EXPECT_EQ(ErrorOf(Sim("    extensions {\n      number: \"750\"\n    }\n")),
            "t.conf:2: providers[0].sim.park_orbit_base: park orbits 700-799 include extension "
            "\"750\" (extensions[1])");
  // Several problems: all reported, one per line.
  EXPECT_EQ(ErrorOf("max_batch: 1\njournal_capacity: 1\nmax_batch: 70000\n"),
            "t.conf:3:10: Non-repeated field \"max_batch\" is specified multiple times.");
  EXPECT_EQ(ErrorOf("journal_capacity: 1\nsubscriber_queue_limit: 2\n"),
            "t.conf:1: journal_capacity: 1 out of range [16, 16777216]\n"
            "t.conf:2: subscriber_queue_limit: 2 out of range [1, 1] (at most journal_capacity)");
}

TEST(ConfigValidate, PostgresStore) {
  EXPECT_EQ(ErrorOf("store {\n  postgres { password_env: \"X\" }\n}\n"),
            "t.conf:2: store.postgres.conninfo: must not be empty (a libpq connection string)");
  EXPECT_EQ(ErrorOf("store { postgres { conninfo: \"dbname=x\" password_file: \"f\" "
                    "password_env: \"X\" } }\n"),
            "t.conf:1: store.postgres.password_env: set password_file or password_env, not both");
  EXPECT_EQ(ErrorOf("store { postgres { conninfo: \"dbname=x\" refresh_ms: 10000 cache_ms: 5000 } }\n"),
            "t.conf:1: store.postgres.cache_ms: 5000 out of range [10000, 3600000]");
  EXPECT_EQ(ErrorOf("store { postgres { conninfo: \"dbname=x\" refresh_ms: 50 } }\n"),
            "t.conf:1: store.postgres.refresh_ms: 50 out of range [100, 600000]");
  EXPECT_EQ(ErrorOf("store { postgres { conninfo: \"dbname=x\" spool_max_bytes: 1000 } }\n"),
            "t.conf:1: store.postgres.spool_max_bytes: 1000 out of range [65536, 1099511627776]");
  ServerConfig c;
  c.mutable_store()->mutable_postgres()->set_conninfo("dbname=x");
  ApplyDefaults(&c);
  EXPECT_EQ(c.store().postgres().refresh_ms(), 5000u);
  EXPECT_EQ(c.store().postgres().cache_ms(), 30000u);
  EXPECT_EQ(c.store().postgres().spool_max_bytes(), 64u << 20);
  EXPECT_TRUE(ValidateConfig(c, ParseLocations()).ok());
}

TEST(ConfigValidate, NoFileReportsLineZero) {
  ServerConfig c;
  ApplyDefaults(&c);
  c.clear_data_dir();
  EXPECT_EQ(ValidateConfig(c, ParseLocations()),
            absl::InvalidArgumentError("<defaults>:0: data_dir: must not be empty"));
  c.set_data_dir("d");
  c.mutable_providers(0)->mutable_sim()->mutable_extensions(2)->set_max_calls(0);
  EXPECT_EQ(ValidateConfig(c, ParseLocations("x.conf")),
            absl::InvalidArgumentError(
                "x.conf:0: providers[0].sim.extensions[2].max_calls: 0 out of range [1, 16]"));
}

struct RuleCase {
  std::string text;
  std::string want;  // substring: "t.conf:<line>: <path>: ..."
};

TEST(ConfigValidate, EveryRule) {
  const RuleCase cases[] = {
      {"listen: \"::1:50051\"\n", "t.conf:1: listen: \"::1:50051\" is not host:port"},
      {"listen: \":50051\"\n", "t.conf:1: listen: \":50051\" is not host:port"},
      {"listen: \"[::1]50051\"\n", "t.conf:1: listen: \"[::1]50051\" is not host:port"},
      {"listen: \"host:\"\n", "t.conf:1: listen: port \"\" out of range"},
      {"listen: \"host:http\"\n", "t.conf:1: listen: port \"http\" out of range"},
      {"listen: \"host:999999\"\n", "t.conf:1: listen: port \"999999\" out of range"},
      {"journal_capacity: 16777217\n", "t.conf:1: journal_capacity: 16777217 out of range"},
      {"subscriber_queue_limit: 65537\n", "t.conf:1: subscriber_queue_limit: 65537 out of range"},
      {"providers { sim { name: \"Bad\" } }\n",
       "t.conf:1: providers[0].sim.name: invalid sim name \"Bad\": want 1-32 of [a-z0-9_-]"},
      {"providers { sim { name: \"a23456789012345678901234567890123\" } }\n",
       "t.conf:1: providers[0].sim.name: invalid sim name"},
      {"providers { sim { name: \"a\" } }\nproviders { sim { name: \"a\" } }\n",
       "t.conf:2: providers[1].sim.name: duplicate sim name \"a\""},
      {Sim("    extensions { number: \"10a\" }\n"),
       "t.conf:4: providers[0].sim.extensions[1].number: extension number \"10a\" must be 1-15 "
       "digits"},
      {Sim("    extensions { number: \"1234567890123456\" }\n"),
       "t.conf:4: providers[0].sim.extensions[1].number: extension number"},
      {Sim("    extensions { name: \"no number\" }\n"),
       "t.conf:4: providers[0].sim.extensions[1].number: extension number \"\" must be"},
      {Sim("    extensions { number: \"100\" }\n"),
       "t.conf:4: providers[0].sim.extensions[1].number: duplicate extension \"100\""},
      {Sim(absl::StrCat("    extensions { number: \"1\" name: \"", std::string(65, 'x'), "\" }\n")),
       "t.conf:4: providers[0].sim.extensions[1].name: name is 65 bytes, at most 64"},
      {Sim("    extensions { number: \"1\" max_calls: 17 }\n"),
       "t.conf:4: providers[0].sim.extensions[1].max_calls: 17 out of range [1, 16]"},
      {Sim("    extensions { number: \"1\" pickup_group: \"Sales\" }\n"),
       "t.conf:4: providers[0].sim.extensions[1].pickup_group: invalid pickup group \"Sales\""},
      {Sim(absl::StrCat("    extensions { number: \"1\" pickup_group: \"", std::string(33, 'g'),
                        "\" }\n")),
       "t.conf:4: providers[0].sim.extensions[1].pickup_group: invalid pickup group"},
      {Sim("    externals { number: \"55-1\" behavior: SIM_BEHAVIOR_BUSY }\n"),
       "t.conf:4: providers[0].sim.externals[0].number: external number \"55-1\" must be 1-20 "
       "digits"},
      {Sim("    externals { number: \"123456789012345678901\" behavior: SIM_BEHAVIOR_BUSY }\n"),
       "t.conf:4: providers[0].sim.externals[0].number: external number"},
      {Sim("    externals { number: \"5\" behavior: SIM_BEHAVIOR_BUSY }\n"
           "    externals { number: \"5\" behavior: SIM_BEHAVIOR_BUSY }\n"),
       "t.conf:5: providers[0].sim.externals[1].number: duplicate external number \"5\""},
      {Sim("    externals { number: \"100\" behavior: SIM_BEHAVIOR_BUSY }\n"),
       "t.conf:4: providers[0].sim.externals[0].number: external number \"100\" is also an "
       "extension"},
      {Sim("    externals {\n      number: \"5\"\n    }\n"),
       "t.conf:4: providers[0].sim.externals[0].behavior: must be set"},
      {Sim("    externals { number: \"5\" behavior: 42 }\n"),
       "t.conf:4: providers[0].sim.externals[0].behavior: unknown behavior 42"},
      {Sim(absl::StrCat("    externals { number: \"5\" behavior: SIM_BEHAVIOR_BUSY name: \"",
                        std::string(65, 'n'), "\" }\n")),
       "t.conf:4: providers[0].sim.externals[0].name: name is 65 bytes, at most 64"},
      {Sim("    externals { number: \"5\" behavior: SIM_BEHAVIOR_ANSWER send_digits: \"1e\" }\n"),
       "t.conf:4: providers[0].sim.externals[0].send_digits: \"1e\" may contain only 0-9 * # A-D"},
      {Sim("    park_orbit_base: \"7a\"\n"),
       "t.conf:4: providers[0].sim.park_orbit_base: \"7a\" must be 1-10 digits"},
      {Sim("    park_orbit_base: \"12345678901\"\n"),
       "t.conf:4: providers[0].sim.park_orbit_base: \"12345678901\" must be 1-10 digits"},
      {Sim("    park_orbit_base: \"050\"\n    extensions { number: \"149\" }\n"),
       "t.conf:4: providers[0].sim.park_orbit_base: park orbits 050-149 include extension "
       "\"149\" (extensions[1])"},
      {Sim("    park_orbit_base: \"95\"\n    extensions { number: \"194\" }\n"),
       "t.conf:4: providers[0].sim.park_orbit_base: park orbits 95-194 include extension "
       "\"194\" (extensions[1])"},
      {Sim("    outside_prefix: \"12345\"\n"),
       "t.conf:4: providers[0].sim.outside_prefix: \"12345\" must be 0-4 digits"},
      {Sim("    outside_prefix: \"9a\"\n"),
       "t.conf:4: providers[0].sim.outside_prefix: \"9a\" must be 0-4 digits"},
  };
  for (const RuleCase& c : cases) {
    EXPECT_THAT(ErrorOf(c.text), HasSubstr(c.want)) << c.text;
  }

  // Boundaries that are fine.
  const std::string ok[] = {
      "listen: \"[::1]:0\"\n",
      "listen: \"0.0.0.0:65535\"\nallow_insecure_non_loopback: true\n",
      "listen: \"localhost:50051\"\n",
      "journal_capacity: 16\nsubscriber_queue_limit: 16\n",
      "journal_capacity: 16777216\n",
      "max_batch: 65536\n",
      "providers { sim { name: \"a23456789012345678901234567890_-\" } }\n",
      Sim("    extensions { number: \"123456789012345\" max_calls: 16 }\n"),
      Sim(absl::StrCat("    extensions { number: \"1\" name: \"", std::string(64, 'x'), "\" }\n")),
      Sim("    externals { number: \"12345678901234567890\" behavior: SIM_BEHAVIOR_BUSY }\n"),
      Sim("    park_orbit_base: \"1234567890\"\n    outside_prefix: \"9999\"\n"),
      Sim("    park_orbit_base: \"0001\"\n    extensions { number: \"1\" }\n"),  // != "0001"
      Sim("    park_orbit_base: \"101\"\n"),                                     // 100 is below
  };
  for (const std::string& text : ok) {
    EXPECT_EQ(ErrorOf(text), "") << text;
  }
}

TEST(ParseLocations, LineOfFallsBackToEnclosingMessage) {
  ParseLocations loc("f");
  loc.Set("providers[0]", 3);
  loc.Set("providers[0].sim", 4);
  loc.Set("providers[0].sim.extensions[2]", 9);
  EXPECT_EQ(loc.LineOf("providers[0].sim.extensions[2].number"), 9);
  EXPECT_EQ(loc.LineOf("providers[0].sim.extensions[1].number"), 4);
  EXPECT_EQ(loc.LineOf("providers[0].sim.name"), 4);
  EXPECT_EQ(loc.LineOf("providers[0]"), 3);
  EXPECT_EQ(loc.LineOf("providers[1].sim"), 0);
  EXPECT_EQ(loc.LineOf("listen"), 0);
}

// --- Transport security: tls { ... } and the loopback rule --------------------

constexpr char kFakeCert[] = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
constexpr char kFakeKey[] =
    "-----BEGIN EC PRIVATE KEY-----\nMHcfake\n-----END EC PRIVATE KEY-----\n";

// Files for the TLS rules (only their PEM markers are checked by validation).
struct TlsFiles {
  std::string dir = MakeTempDir();
  std::string cert = WriteFile(dir, "server.pem", kFakeCert);
  std::string key = WriteFile(dir, "server.key", kFakeKey);
  std::string ca = WriteFile(dir, "ca.pem", kFakeCert);
  std::string text = WriteFile(dir, "notes.txt", "not a certificate\n");
  std::string encrypted =
      WriteFile(dir, "enc.key",
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n");
};

TEST(ConfigTls, ValidTlsAndDefaults) {
  TlsFiles f;
  absl::StatusOr<ServerConfig> c =
      ParseConfigText(absl::StrCat("listen: \"0.0.0.0:50051\"\ntls {\n  cert_file: \"", f.cert,
                                   "\"\n  key_file: \"", f.key, "\"\n  client_ca_file: \"", f.ca,
                                   "\"\n  require_client_cert: true\n}\n"),
                      "t.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(TlsEnabled(*c));
  EXPECT_EQ(c->tls().reload_interval_ms(), 60000u);
  EXPECT_FALSE(c->allow_insecure_non_loopback());
  EXPECT_TRUE(CheckListenSecurity(*c).ok());
  EXPECT_FALSE(InsecureNonLoopbackAllowed(*c));

  // Without a tls block nothing is added (--print_config stays as it was).
  absl::StatusOr<ServerConfig> plain = ParseConfigText("", "t.conf");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->has_tls());
  EXPECT_FALSE(TlsEnabled(*plain));

  // An empty block (or one with only reload_interval_ms) is plaintext.
  absl::StatusOr<ServerConfig> empty = ParseConfigText("tls { reload_interval_ms: 5 }\n", "t.conf");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_FALSE(TlsEnabled(*empty));
  EXPECT_EQ(empty->tls().reload_interval_ms(), 5u);
}

TEST(ConfigTls, RulesExactMessages) {
  TlsFiles f;
  struct RuleCase {
    std::string text;
    std::string want;  // the whole message
  };
  const std::string cert = absl::StrCat("  cert_file: \"", f.cert, "\"\n");
  const std::string key = absl::StrCat("  key_file: \"", f.key, "\"\n");
  const std::string ca = absl::StrCat("  client_ca_file: \"", f.ca, "\"\n");
  const RuleCase cases[] = {
      {absl::StrCat("tls {\n", cert, "}\n"),
       "t.conf:2: tls.cert_file: set without tls.key_file (set both or neither)"},
      {absl::StrCat("tls {\n", key, "}\n"),
       "t.conf:2: tls.key_file: set without tls.cert_file (set both or neither)"},
      {absl::StrCat("tls {\n  cert_file: \"", f.dir, "/missing.pem\"\n", key, "}\n"),
       absl::StrCat("t.conf:2: tls.cert_file: cannot read \"", f.dir,
                    "/missing.pem\": No such file or directory")},
      {absl::StrCat("tls {\n", cert, "  key_file: \"", f.dir, "\"\n}\n"),
       absl::StrCat("t.conf:3: tls.key_file: cannot read \"", f.dir, "\": Is a directory")},
      {absl::StrCat("tls {\n  cert_file: \"", f.text, "\"\n", key, "}\n"),
       absl::StrCat("t.conf:2: tls.cert_file: \"", f.text,
                    "\" holds no PEM certificate (-----BEGIN CERTIFICATE-----)")},
      {absl::StrCat("tls {\n", cert, "  key_file: \"", f.cert, "\"\n}\n"),
       absl::StrCat("t.conf:3: tls.key_file: \"", f.cert,
                    "\" holds no PEM private key (unencrypted, -----BEGIN ... PRIVATE KEY-----)")},
      {absl::StrCat("tls {\n", cert, "  key_file: \"", f.encrypted, "\"\n}\n"),
       absl::StrCat("t.conf:3: tls.key_file: \"", f.encrypted,
                    "\" holds no PEM private key (unencrypted, -----BEGIN ... PRIVATE KEY-----)")},
      {absl::StrCat("tls {\n", cert, key, "  client_ca_file: \"", f.key, "\"\n}\n"),
       absl::StrCat("t.conf:4: tls.client_ca_file: \"", f.key,
                    "\" holds no PEM certificate (-----BEGIN CERTIFICATE-----)")},
      {absl::StrCat("tls {\n", cert, key, "  require_client_cert: true\n}\n"),
       "t.conf:4: tls.require_client_cert: needs tls.client_ca_file (the CA bundle that signs "
       "client certificates)"},
      {absl::StrCat("tls {\n", ca, "}\n"),
       "t.conf:2: tls.client_ca_file: needs tls.cert_file and tls.key_file (client certificates "
       "are checked only over TLS)"},
      {absl::StrCat("tls {\n", cert, key, "  reload_interval_ms: 86400001\n}\n"),
       "t.conf:4: tls.reload_interval_ms: 86400001 exceeds 86400000 (one day)"},
      // Several problems, one per line.
      {"\ntls {\n  key_file: \"/nonexistent/k.pem\"\n  require_client_cert: true\n}\n",
       "t.conf:3: tls.key_file: set without tls.cert_file (set both or neither)\n"
       "t.conf:3: tls.key_file: cannot read \"/nonexistent/k.pem\": No such file or directory\n"
       "t.conf:4: tls.require_client_cert: needs tls.client_ca_file (the CA bundle that signs "
       "client certificates)"},
  };
  for (const RuleCase& c : cases) {
    EXPECT_EQ(ErrorOf(c.text), c.want) << c.text;
  }
  EXPECT_EQ(ErrorOf(absl::StrCat("tls {\n", cert, key, ca, "  reload_interval_ms: 86400000\n}\n")),
            "");
}

TEST(ConfigTransport, PlaintextOnNonLoopbackIsRefused) {
  const std::string refused =
      "listen: plaintext (no tls) listener on non-loopback address \"%s\" refused: configure "
      "tls { cert_file key_file } or, to accept the risk, set allow_insecure_non_loopback: true";
  for (const char* listen :
       {"0.0.0.0:0", "[::]:50051", "10.0.0.7:1", "192.168.1.2:50051", "[fe80::1]:1",
        "example.com:1", "127.0.0.1.nip.io:1", "[::ffff:10.0.0.1]:1"}) {
    EXPECT_EQ(ErrorOf(absl::StrCat("# comment\nlisten: \"", listen, "\"\n")),
              absl::StrCat("t.conf:2: ", absl::StrReplaceAll(refused, {{"%s", listen}})))
        << listen;
    EXPECT_FALSE(IsLoopbackListen(listen)) << listen;
    // Allowed explicitly: valid, and the server will warn.
    absl::StatusOr<ServerConfig> allowed = ParseConfigText(
        absl::StrCat("listen: \"", listen, "\"\nallow_insecure_non_loopback: true\n"), "t.conf");
    ASSERT_TRUE(allowed.ok()) << allowed.status();
    EXPECT_TRUE(InsecureNonLoopbackAllowed(*allowed));
    EXPECT_TRUE(CheckListenSecurity(*allowed).ok());
  }
  for (const char* listen : {"127.0.0.1:0", "127.1.2.3:50051", "[::1]:1", "localhost:1",
                             "LocalHost:1", "[::ffff:127.0.0.1]:1"}) {
    EXPECT_EQ(ErrorOf(absl::StrCat("listen: \"", listen, "\"\n")), "") << listen;
    EXPECT_TRUE(IsLoopbackListen(listen)) << listen;
  }
  EXPECT_FALSE(IsLoopbackListen("localhost"));  // not host:port

  // The server's own check (defence in depth): FailedPrecondition, same words.
  ServerConfig c;
  c.set_listen("0.0.0.0:0");
  absl::Status status = CheckListenSecurity(c);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), absl::StrReplaceAll(refused, {{"%s", "0.0.0.0:0"}}));

  // With TLS a non-loopback address is fine.
  TlsFiles f;
  EXPECT_EQ(ErrorOf(absl::StrCat("listen: \"0.0.0.0:1\"\ntls { cert_file: \"", f.cert,
                                 "\" key_file: \"", f.key, "\" }\n")),
            "");
}

TEST(ConfigTransport, FlagOverridesAreReportedAsFlags) {
  // What linebridged does: raw file, flags on top, then defaults + validation.
  const std::string dir = MakeTempDir();
  const std::string path = WriteFile(
      dir, "lb.conf", "# lb\nlisten: \"127.0.0.1:0\"\ntls {\n  reload_interval_ms: 1\n}\n");
  ServerConfig c;
  ParseLocations locations;
  ASSERT_TRUE(LoadConfigRaw(path, &c, &locations).ok());
  EXPECT_EQ(locations.LineOf("listen"), 2);
  c.set_listen("0.0.0.0:0");
  locations.SetOverride("listen", "flags");
  c.mutable_tls()->set_cert_file(dir + "/none.pem");
  locations.SetOverride("tls.cert_file", "flags");
  ApplyDefaults(&c);
  EXPECT_EQ(locations.LineOf("listen"), 0);
  EXPECT_EQ(locations.Where("listen"), "flags:0");
  EXPECT_EQ(locations.Where("tls.reload_interval_ms"), path + ":4");
  absl::Status status = ValidateConfig(c, locations);
  EXPECT_EQ(status.message(),
            absl::StrCat("flags:0: listen: plaintext (no tls) listener on non-loopback address "
                         "\"0.0.0.0:0\" refused: configure tls { cert_file key_file } or, to "
                         "accept the risk, set allow_insecure_non_loopback: true\n"
                         "flags:0: tls.cert_file: set without tls.key_file (set both or neither)\n"
                         "flags:0: tls.cert_file: cannot read \"",
                         dir, "/none.pem\": No such file or directory"));

  // No file: an empty config with "<defaults>" locations.
  ASSERT_TRUE(LoadConfigRaw("", &c, &locations).ok());
  EXPECT_EQ(c.ByteSizeLong(), 0u);
  EXPECT_EQ(locations.Where("listen"), "<defaults>:0");
  EXPECT_FALSE(LoadConfigRaw(dir + "/missing.conf", &c, &locations).ok());
}

}  // namespace
}  // namespace linebridge

namespace linebridge {
namespace {

TEST(ConfigValidate, AuthAndLimitsErrorsNameFileLineField) {
  const std::string text =
      "listen: \"127.0.0.1:50051\"\n"           // 1
      "auth {\n"                                // 2
      "  loopback_role: \"root\"\n"             // 3
      "  admin_principals: \"ok.example\"\n"    // 4
      "  admin_principals: \"bad name\"\n"      // 5
      "}\n"                                     // 6
      "limits {\n"                              // 7
      "  max_message_bytes: 10\n"               // 8
      "  idle_timeout_ms: 5\n"                  // 9
      "}\n";                                    // 10
  absl::StatusOr<v1::config::ServerConfig> config = ParseConfigText(text, "lb.conf");
  ASSERT_FALSE(config.ok());
  const std::string err(config.status().message());
  EXPECT_THAT(err, ::testing::HasSubstr(
                       "lb.conf:3: auth.loopback_role: \"root\" is neither \"admin\" nor \"user\""));
  EXPECT_THAT(err, ::testing::HasSubstr("lb.conf:5: auth.admin_principals[1]: "));
  EXPECT_THAT(err, ::testing::Not(::testing::HasSubstr("admin_principals[0]")));
  EXPECT_THAT(err, ::testing::HasSubstr(
                       "lb.conf:8: limits.max_message_bytes: 10 out of range [1024, 67108864]"));
  EXPECT_THAT(err, ::testing::HasSubstr("lb.conf:9: limits.idle_timeout_ms: 5 is under 1000"));

  EXPECT_TRUE(ParseConfigText("auth { loopback_role: \"user\" loopback_principal: \"CORP\\\\ops\" }\n"
                              "limits { originations_per_minute: 5 max_concurrent_calls: 2 }\n",
                              "ok.conf")
                  .ok());
}

TEST(ConfigValidate, HealthAndMetricsListeners) {
  absl::StatusOr<v1::config::ServerConfig> ok =
      ParseConfigText("health { listen: \"0.0.0.0:50052\" }\n"
                      "metrics { listen: \"127.0.0.1:9464\" }\n",
                      "ok.conf");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->health().listen(), "0.0.0.0:50052");  // plaintext anywhere: health only
  EXPECT_EQ(ok->metrics().listen(), "127.0.0.1:9464");
  // Both default to off.
  absl::StatusOr<v1::config::ServerConfig> off = ParseConfigText("", "off.conf");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->health().listen(), "");
  EXPECT_EQ(off->metrics().listen(), "");
  // Port 0 everywhere is fine (each picks its own).
  EXPECT_TRUE(ParseConfigText("listen: \"127.0.0.1:0\"\nhealth { listen: \"127.0.0.1:0\" }\n"
                              "metrics { listen: \"127.0.0.1:0\" }\n",
                              "zero.conf")
                  .ok());

  EXPECT_EQ(ErrorOf("\nhealth {\n  listen: \"localhost\"\n}\n"),
            "t.conf:3: health.listen: \"localhost\" is not host:port (IPv6 as [::1]:port)");
  EXPECT_EQ(ErrorOf("metrics { listen: \"127.0.0.1:70000\" }\n"),
            "t.conf:1: metrics.listen: port \"70000\" out of range 0..65535");
  EXPECT_EQ(ErrorOf("listen: \"127.0.0.1:7000\"\nmetrics { listen: \"127.0.0.1:7000\" }\n"),
            "t.conf:2: metrics.listen: \"127.0.0.1:7000\" is listen's address too");
  EXPECT_EQ(ErrorOf("health { listen: \"[::1]:7001\" }\nmetrics { listen: \"[::1]:7001\" }\n"),
            "t.conf:2: metrics.listen: \"[::1]:7001\" is health.listen's address too");
}

TEST(ConfigRetention, DefaultsAndErrorsNameFileLineField) {
  absl::StatusOr<v1::config::ServerConfig> d = ParseConfigText("", "d.conf");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->retention().call_records().max_age_days(), 365u);
  EXPECT_EQ(d->retention().call_records().max_rows(), 10000000u);
  EXPECT_EQ(d->retention().audit().max_age_days(), 90u);
  EXPECT_EQ(d->retention().audit().max_rows(), 1000000u);
  EXPECT_EQ(d->retention().interval_ms(), 60000u);
  // Set values are kept; what is left out gets its default.
  absl::StatusOr<v1::config::ServerConfig> set =
      ParseConfigText("retention { audit { max_rows: 500 } interval_ms: 100 }\n", "s.conf");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->retention().audit().max_rows(), 500u);
  EXPECT_EQ(set->retention().audit().max_age_days(), 90u);
  EXPECT_EQ(set->retention().interval_ms(), 100u);

  EXPECT_EQ(ErrorOf("retention {\n  interval_ms: 99\n}\n"),
            "t.conf:2: retention.interval_ms: 99 out of range [100, 86400000]");
  EXPECT_EQ(ErrorOf("retention {\n  call_records {\n    max_age_days: 36501\n  }\n}\n"),
            "t.conf:3: retention.call_records.max_age_days: 36501 out of range [1, 36500]");
  EXPECT_EQ(ErrorOf("retention { audit { max_rows: 1000000001 } }\n"),
            "t.conf:1: retention.audit.max_rows: 1000000001 out of range [1, 1000000000]");
}

TEST(ConfigModem, ValidPortGetsDefaults) {
  absl::StatusOr<v1::config::ServerConfig> c = ParseConfigText(
      "providers {\n  modem {\n    ports { name: \"m0\" device: \"/dev/ttyACM0\" }\n  }\n}\n",
      "t.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  const auto& m = c->providers(0).modem();
  EXPECT_EQ(m.name(), "modem");
  EXPECT_EQ(m.ports(0).baud(), 115200u);
  EXPECT_EQ(m.ports(0).reset(0), "ATZ");
  EXPECT_EQ(m.ports(0).answer(0), "ATA");
  EXPECT_EQ(m.ports(0).ring_timeout_ms(), 8000u);
  EXPECT_EQ(m.ports(0).retry_interval_ms(), 2000u);
}

TEST(ConfigModem, ErrorsNameFileLineAndField) {
  const std::string err = ErrorOf(
      "providers {\n"
      "  modem {\n"
      "    ports {\n"
      "      name: \"m0\"\n"
      "      device: \"ttyS0\"\n"
      "      baud: 12345\n"
      "      init: \"ATZ\\r\\nATD123\"\n"
      "      dial_prefix: \"ATX;D\"\n"
      "      number: \"12;3\"\n"
      "      ring_timeout_ms: 10\n"
      "    }\n"
      "    ports { name: \"m0\" device: \"/dev/ttyS1\" answer: \"ATA\" answer: \"hello\" }\n"
      "    ports { name: \"m2\" device: \"/dev/ttyS1\" }\n"
      "  }\n"
      "}\n");
  EXPECT_THAT(err, ::testing::HasSubstr(
                       "t.conf:5: providers[0].modem.ports[0].device: \"ttyS0\" is not an "
                       "absolute device path"));
  EXPECT_THAT(err, ::testing::HasSubstr("t.conf:6: providers[0].modem.ports[0].baud: "
                                        "unsupported speed 12345"));
  EXPECT_THAT(err, ::testing::HasSubstr("t.conf:7: providers[0].modem.ports[0].init[0]: "));
  EXPECT_THAT(err, ::testing::HasSubstr("t.conf:8: providers[0].modem.ports[0].dial_prefix: "));
  EXPECT_THAT(err, ::testing::HasSubstr("t.conf:9: providers[0].modem.ports[0].number: "));
  EXPECT_THAT(err, ::testing::HasSubstr(
                       "t.conf:10: providers[0].modem.ports[0].ring_timeout_ms: 10 out of range"));
  EXPECT_THAT(err, ::testing::HasSubstr(
                       "t.conf:12: providers[0].modem.ports[1].name: duplicate port name \"m0\""));
  EXPECT_THAT(err, ::testing::HasSubstr("t.conf:12: providers[0].modem.ports[1].answer[1]: "
                                        "\"hello\" is not an AT command"));
  EXPECT_THAT(err, ::testing::HasSubstr("t.conf:13: providers[0].modem.ports[2].device: device "
                                        "\"/dev/ttyS1\" is used by another port"));
}

// A symlink and the device it points at are one port: a config naming both
// is refused, whatever the paths look like.
TEST(ConfigModem, SameDeviceUnderTwoPathsIsOnePort) {
  int master = -1, slave = -1;
  char pts[256] = {};
  ASSERT_EQ(::openpty(&master, &slave, pts, nullptr, nullptr), 0);
  char tmpl[] = "/tmp/lb-config-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string link = std::string(tmpl) + "/ttyMODEM";
  ASSERT_EQ(::symlink(pts, link.c_str()), 0);
  const std::string err = ErrorOf(absl::StrCat(
      "providers {\n  modem {\n",
      "    ports { name: \"m0\" device: \"", pts, "\" }\n",
      "    ports { name: \"m1\" device: \"", link, "\" }\n",
      "    ports { name: \"m2\" device: \"/dev/ttyS7\" incoming_media: MEDIA_MODE_UNKNOWN }\n",
      "  }\n}\n"));
  EXPECT_THAT(err, ::testing::HasSubstr(absl::StrCat(
                       "t.conf:4: providers[0].modem.ports[1].device: device \"", link,
                       "\" is used by another port (as \"", pts, "\")")));
  EXPECT_THAT(err, ::testing::HasSubstr("t.conf:5: providers[0].modem.ports[2].incoming_media: "
                                        "MEDIA_MODE_UNKNOWN is not a modem's media mode"));
  ::unlink(link.c_str());
  ::rmdir(tmpl);
  ::close(master);
  ::close(slave);
}

TEST(ConfigModem, NeedsPortsAndAUniqueName) {
  const std::string err = ErrorOf(
      "providers { sim { name: \"x\" } }\n"
      "providers {\n  modem {\n    name: \"x\"\n  }\n}\n");
  EXPECT_THAT(err, ::testing::HasSubstr("t.conf:4: providers[1].modem.name: duplicate provider "
                                        "name \"x\""));
  EXPECT_THAT(err, ::testing::HasSubstr("providers[1].modem.ports: a modem provider needs at "
                                        "least one port"));
}

}  // namespace
}  // namespace linebridge

namespace linebridge {
namespace {

TEST(ConfigValidate, ConnectionAndSessionLimitsNameFileLineField) {
  const std::string text =
      "limits {\n"                              // 1
      "  max_connections: 100\n"                // 2
      "  max_connections_per_peer: 500\n"       // 3
      "  handshake_timeout_ms: 10\n"            // 4
      "  max_sessions_per_principal: 200000\n"  // 5
      "}\n";                                    // 6
  absl::StatusOr<v1::config::ServerConfig> config = ParseConfigText(text, "lb.conf");
  ASSERT_FALSE(config.ok());
  const std::string err(config.status().message());
  EXPECT_THAT(err, ::testing::HasSubstr("lb.conf:3: limits.max_connections_per_peer: 500 exceeds "
                                        "limits.max_connections (100)"));
  EXPECT_THAT(err, ::testing::HasSubstr(
                       "lb.conf:4: limits.handshake_timeout_ms: 10 out of range [1000, 600000]"));
  EXPECT_THAT(err, ::testing::HasSubstr(
                       "lb.conf:5: limits.max_sessions_per_principal: 200000 exceeds 100000"));
  EXPECT_TRUE(ParseConfigText("limits { max_connections: 900 max_connections_per_peer: 100 "
                              "handshake_timeout_ms: 5000 max_sessions_per_principal: 4 }\n",
                              "ok.conf")
                  .ok());
}

}  // namespace
}  // namespace linebridge
