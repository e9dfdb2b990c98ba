// util/error: the code word of a server's error reply, which decisions are made on.
#include <catch2/catch.hpp>

#include "rci/redis/reply.hpp"
#include "rci/util/error.hpp"

using namespace rci;

TEST_CASE("reply_code_of reads the first word of an error reply", "[error]") {
  CHECK(reply_code_of("ERR Unknown subcommand or wrong number of arguments for 'ADDSLOTSRANGE'. Try CLUSTER HELP.") ==
        ReplyCode::err);
  // Redis 7 words the same refusal differently; the code is the same.
  CHECK(reply_code_of("ERR unknown subcommand 'ADDSLOTSRANGE'. Try CLUSTER HELP.") == ReplyCode::err);
  CHECK(reply_code_of("MOVED 3999 127.0.0.1:6381") == ReplyCode::moved);
  CHECK(reply_code_of("ASK 3999 127.0.0.1:6381") == ReplyCode::ask);
  CHECK(reply_code_of("TRYAGAIN Multiple keys request during rehashing of slot") == ReplyCode::tryagain);
  CHECK(reply_code_of("BUSYKEY Target key name already exists.") == ReplyCode::busykey);
  CHECK(reply_code_of("NOAUTH Authentication required.") == ReplyCode::noauth);
  CHECK(reply_code_of("WRONGPASS invalid username-password pair or user is disabled.") == ReplyCode::wrongpass);
  CHECK(reply_code_of("NOPERM this user has no permissions to run the 'cluster' command") == ReplyCode::noperm);
  CHECK(reply_code_of("CLUSTERDOWN The cluster is down") == ReplyCode::clusterdown);
  CHECK(reply_code_of("LOADING Redis is loading the dataset in memory") == ReplyCode::loading);
  CHECK(reply_code_of("MASTERDOWN Link with MASTER is down") == ReplyCode::masterdown);
  CHECK(reply_code_of("READONLY You can't write against a read only replica.") == ReplyCode::readonly);
  CHECK(reply_code_of("CROSSSLOT Keys in request don't hash to the same slot") == ReplyCode::crossslot);
  CHECK(reply_code_of("BUSY Redis is busy running a script.") == ReplyCode::busy);
  // Codes are case-sensitive words, and a code is the whole word.
  CHECK(reply_code_of("err lowercase") == ReplyCode::other);
  CHECK(reply_code_of("ERRATIC") == ReplyCode::other);
  CHECK(reply_code_of("") == ReplyCode::other);
  CHECK(reply_code_of("ERR") == ReplyCode::err);
}

TEST_CASE("fail_reply makes refused credentials an auth error and keeps the code", "[error]") {
  auto noauth = fail_reply("NOAUTH Authentication required.", "10.0.0.1:6379: CLUSTER NODES: NOAUTH ...");
  CHECK(noauth.error().kind == ErrorKind::auth);
  CHECK(noauth.error().code == ReplyCode::noauth);
  CHECK(fail_reply("WRONGPASS invalid", "x").error().kind == ErrorKind::auth);
  auto err = fail_reply("ERR Slot 5 is already busy", "10.0.0.1:6379: CLUSTER ADDSLOTSRANGE 0 5460: ERR ...");
  CHECK(err.error().kind == ErrorKind::reply);
  CHECK(err.error().code == ReplyCode::err);
  CHECK(err.error().message == "10.0.0.1:6379: CLUSTER ADDSLOTSRANGE 0 5460: ERR ...");
  // NOPERM is a refusal of the command, not of the credentials.
  CHECK(fail_reply("NOPERM no", "x").error().kind == ErrorKind::reply);
}

TEST_CASE("a Reply knows its code only when it is an error", "[error]") {
  redis::Reply error;
  error.type = redis::Reply::Type::error;
  error.str = "LOADING Redis is loading";
  CHECK(error.code() == ReplyCode::loading);
  redis::Reply status;
  status.type = redis::Reply::Type::status;
  status.str = "ERR not an error: a status";
  CHECK(status.code() == ReplyCode::none);
  CHECK(std::string(to_string(ReplyCode::busykey)) == "BUSYKEY");
  CHECK(std::string(to_string(ReplyCode::none)).empty());
}

TEST_CASE("a refusal MIGRATE relays from the destination carries the destination's code", "[error]") {
  // As cluster.c writes them (Redis 6.2, 7.2, Valkey 8.0): the target's reply after a prefix.
  CHECK(relayed_reply_code("ERR Target instance replied with error: BUSYKEY Target key name already exists.") ==
        ReplyCode::busykey);
  CHECK(relayed_reply_code("ERR Target instance replied with error: NOPERM User rci-init has no permissions to run "
                           "the 'restore-asking' command") == ReplyCode::noperm);
  CHECK(relayed_reply_code("ERR Target instance replied with error: WRONGPASS invalid username-password pair") ==
        ReplyCode::wrongpass);
  CHECK(relayed_reply_code("ERR Target instance replied with error: something new") == ReplyCode::other);
  // Not a relay: MIGRATE's own errors, and every other reply.
  CHECK(relayed_reply_code("IOERR error or timeout reading to target instance") == ReplyCode::none);
  CHECK(relayed_reply_code("BUSYKEY Target key name already exists.") == ReplyCode::none);
  CHECK(relayed_reply_code("ERR Slot 5 is already busy") == ReplyCode::none);

  auto busy = fail_reply("ERR Target instance replied with error: BUSYKEY Target key name already exists.", "x");
  CHECK(busy.error().kind == ErrorKind::reply);
  CHECK(busy.error().code == ReplyCode::busykey);
  auto denied = fail_reply("ERR Target instance replied with error: NOPERM no permissions", "x");
  CHECK(denied.error().code == ReplyCode::noperm);
  CHECK(fail_reply("ERR Target instance replied with error: WRONGPASS invalid", "x").error().kind == ErrorKind::auth);
}
