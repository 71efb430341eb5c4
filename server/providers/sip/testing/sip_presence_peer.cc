#include "providers/sip/testing/sip_presence_peer.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "linebridge/deadline.h"

namespace linebridge::sip::testing {

bool StartPresenceKamailio(ChildProcess& child, int port, int phone_port, int far_port,
                           const std::string& dir, std::string* error,
                           const std::string& password, int rpc_port) {
  const std::string db = absl::StrCat(dir, "/kamailio_db_", port);
  std::error_code ec;
  std::filesystem::create_directories(db, ec);
  std::filesystem::copy("/usr/share/kamailio/dbtext/kamailio", db,
                        std::filesystem::copy_options::overwrite_existing |
                                std::filesystem::copy_options::recursive,
                            ec);
  if (ec) {
    *error = absl::StrCat("cannot copy kamailio's db_text tables: ", ec.message());
    return false;
  }
  const std::string cfg = absl::StrCat(dir, "/kamailio_presence_", port, ".cfg");
  const std::string self = absl::StrCat("sip:127.0.0.1:", port);
  // As registrar: phones REGISTER with digest auth and calls for "alice" go
  // to her registered contact. Then with one UDP worker, so that responses
  // are relayed in the order they come: with two, a phone's 180 can reach
  // the line after its 200 (docs/sip.md, "Phone lines": Limits).
  std::string registrar_modules;
  std::string registrar;
  std::string alice = absl::StrCat("  if ($rU == \"alice\") { $du = \"sip:127.0.0.1:", phone_port,
                                   "\"; }\n  else");
  if (!password.empty()) {
    registrar_modules =
        "loadmodule \"usrloc.so\"\nloadmodule \"registrar.so\"\nloadmodule \"auth.so\"\n"
        "modparam(\"usrloc\", \"db_mode\", 0)\nmodparam(\"registrar\", \"min_expires\", 1)\n";
    registrar = absl::StrCat(
        "  if (is_method(\"REGISTER\")) {\n",
        "    if (!pv_www_authenticate(\"$td\", \"", password, "\", \"0\")) {\n",
        "      www_challenge(\"$td\", \"0\"); exit;\n    }\n",
        "    save(\"location\"); exit;\n  }\n");
    alice =
        "  if ($rU == \"alice\") {\n"
        "    if (!lookup(\"location\")) { sl_send_reply(\"480\", \"Not Registered\"); exit; }\n"
        "  } else";
  }
  const std::string rpc =
      rpc_port == 0 ? std::string()
                    : absl::StrCat("loadmodule \"jsonrpcs.so\"\n",
                                   "modparam(\"jsonrpcs\", \"transport\", 4)\n",
                                   "modparam(\"jsonrpcs\", \"dgram_socket\", \"udp:127.0.0.1:",
                                   rpc_port, "\")\n");
  std::ofstream(cfg)
      << "#!KAMAILIO\n"
      << "debug=2\nlog_stderror=yes\nchildren=" << (password.empty() ? 2 : 1) << "\n"
      << "listen=udp:127.0.0.1:" << port << "\n"
      << "mpath=\"/usr/lib/x86_64-linux-gnu/kamailio/modules/\"\n"
      << "loadmodule \"tm.so\"\nloadmodule \"sl.so\"\nloadmodule \"pv.so\"\n"
      << "loadmodule \"rr.so\"\nloadmodule \"maxfwd.so\"\nloadmodule \"siputils.so\"\n"
      << "loadmodule \"textops.so\"\nloadmodule \"db_text.so\"\nloadmodule \"dialog.so\"\n"
      << "loadmodule \"presence.so\"\nloadmodule \"presence_dialoginfo.so\"\n"
      << "loadmodule \"pua.so\"\nloadmodule \"pua_dialoginfo.so\"\n"
      << registrar_modules << rpc << "modparam(\"presence\", \"subs_db_mode\", 0)\n"
      << "modparam(\"presence\", \"publ_cache\", 2)\n"
      << "modparam(\"presence\", \"min_expires\", 1)\n"
      << "modparam(\"presence\", \"server_address\", \"" << self << "\")\n"
      << "modparam(\"pua\", \"db_url\", \"text://" << db << "\")\n"
      << "modparam(\"pua\", \"db_mode\", 0)\n"
      << "modparam(\"pua\", \"outbound_proxy\", \"" << self << "\")\n"
      << "modparam(\"pua_dialoginfo\", \"send_publish_flag\", 8)\n"
      << "modparam(\"dialog\", \"dlg_flag\", 4)\n"
      << "request_route {\n"
      << "  if (!mf_process_maxfwd_header(\"10\")) { sl_send_reply(\"483\", \"Too Many Hops\"); "
         "exit; }\n"
      << "  if (is_method(\"OPTIONS\") && !has_totag()) { sl_send_reply(\"200\", \"OK\"); exit; }\n"
      << registrar
      << "  if (has_totag()) {\n"
      << "    if (is_method(\"SUBSCRIBE\")) { handle_subscribe(); t_release(); exit; }\n"
      << "    if (loose_route()) { t_relay(); exit; }\n"
      << "    t_relay(); exit;\n"
      << "  }\n"
      << "  if (is_method(\"PUBLISH\")) { handle_publish(); t_release(); exit; }\n"
      << "  if (is_method(\"SUBSCRIBE\")) { handle_subscribe(); t_release(); exit; }\n"
      << "  if (is_method(\"CANCEL\")) { if (t_check_trans()) t_relay(); exit; }\n"
      << "  if (is_method(\"INVITE\")) { setflag(4); setflag(8); record_route(); }\n"
      << alice << " { $du = \"sip:127.0.0.1:" << far_port << "\"; }\n"
      << "  t_relay();\n"
      << "}\n";
  const std::string run = absl::StrCat(dir, "/kamailio_run_", port);
  ::mkdir(run.c_str(), 0755);
  if (!child.Start({"kamailio", "-DD", "-E", "-f", cfg, "-Y", run, "-w", run},
                   absl::StrCat(dir, "/kamailio_presence_", port, ".log"))) {
    *error = "cannot start kamailio";
    return false;
  }
  const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
  while (MonotonicNow() < deadline) {
    if (AnswersOptions(port)) return true;
  }
  *error = absl::StrCat("kamailio on port ", port, " never answered OPTIONS; log:\n",
                        child.ReadLog());
  return false;
}

}  // namespace linebridge::sip::testing
