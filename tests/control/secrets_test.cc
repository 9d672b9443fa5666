// The secrets layer in process: AES-256-GCM seal/open, the key ring's
// parsing and file checks, and values bound to their place.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "hotswap/harness/temp_dir.h"
#include "secrets/aes_gcm.h"
#include "secrets/key_ring.h"
#include "secrets/secret_box.h"
#include "store/sql_store.h"

#include <sqlite3.h>

namespace hotswap::control::secrets {
namespace {

Key key_of(uint8_t fill) {
  Key k;
  k.fill(fill);
  return k;
}

TEST(AesGcm, RoundTripsEveryLengthWithAFreshNonce) {
  for (size_t n : {0, 1, 15, 16, 17, 1000}) {
    const std::string plain(n, 'x');
    auto a = seal(key_of(1), "aad", plain);
    auto b = seal(key_of(1), "aad", plain);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), 12 + n + 16);
    EXPECT_NE(*a, *b) << "a nonce was reused";
    auto opened = open(key_of(1), "aad", *a);
    ASSERT_TRUE(opened) << opened.error();
    EXPECT_EQ(*opened, plain);
  }
}

TEST(AesGcm, WrongKeyAssociatedDataOrAnyChangedByteFails) {
  auto sealed = seal(key_of(1), "place", "hunter2");
  ASSERT_TRUE(sealed);
  EXPECT_FALSE(open(key_of(2), "place", *sealed));
  EXPECT_FALSE(open(key_of(1), "other place", *sealed));
  for (size_t i = 0; i < sealed->size(); ++i) {  // nonce, ciphertext and tag
    std::string tampered = *sealed;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(open(key_of(1), "place", tampered)) << "byte " << i;
  }
  EXPECT_FALSE(open(key_of(1), "place", sealed->substr(0, sealed->size() - 1)));
  EXPECT_FALSE(open(key_of(1), "place", "short"));
}

TEST(Base64, RoundTripsAndRefusesJunk) {
  for (const std::string& s : {std::string("a"), std::string("ab"), std::string("abc"),
                               std::string("abcd"), std::string("\0\xff\x10", 3)}) {
    auto back = from_base64(to_base64(s));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(from_base64("abc"));
  EXPECT_FALSE(from_base64("ab!d"));
}

const std::string kKeyA = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const std::string kKeyB = "HxwdHhscGRoXGBUWExQREg8QDQ4LDAkKBwgFBgMEAQI=";

TEST(KeyRing, ParsesIdsAndThePrimary) {
  auto ring = parse_key_file("# comment\n\nold " + kKeyA + "\nnew " + kKeyB + " primary\n", "f");
  ASSERT_TRUE(ring) << ring.error();
  EXPECT_EQ(ring->primary().id, "new");
  EXPECT_NE(ring->find("old"), nullptr);
  EXPECT_EQ(ring->find("gone"), nullptr);
  auto one = parse_key_file("only " + kKeyA + "\n", "f");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->primary().id, "only");
}

TEST(KeyRing, RefusesBadFilesNamingTheLineWithoutEchoingKeys) {
  struct Case {
    std::string text, expect;
  };
  for (const Case& c :
       {Case{"", "holds no key"}, Case{"a " + kKeyA + "\nb " + kKeyB + "\n", "none marked primary"},
        Case{"a " + kKeyA + " primary\nb " + kKeyB + " primary\n", "line 2"},
        Case{"a " + kKeyA + "\na " + kKeyB + " primary\n", "appears twice"},
        Case{"a c2hvcnQ=\n", "32 bytes"},
        Case{"a " + kKeyA + " main\n", "expected `ID BASE64 [primary]`"},
        Case{"b@d " + kKeyA + "\n", "key id"}}) {
    auto ring = parse_key_file(c.text, "f");
    ASSERT_FALSE(ring) << c.text;
    EXPECT_NE(ring.error().find(c.expect), std::string::npos) << ring.error();
    EXPECT_EQ(ring.error().find(kKeyA), std::string::npos) << ring.error();
  }
  auto env = parse_key_value("k9:" + kKeyA, "HOTSWAP_MASTER_KEY");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->primary().id, "k9");
  EXPECT_EQ(parse_key_value(kKeyA, "X")->primary().id, "env");
  EXPECT_FALSE(parse_key_value("k9:nope", "X"));
}

TEST(KeyRing, RefusesAFileGroupOrOthersMayRead) {
  test::TempDir dir;
  const std::string path = dir.path() + "/keys";
  std::ofstream(path) << "k " << kKeyA << "\n";
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  auto refused = load_key_file(path);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("mode 0640"), std::string::npos) << refused.error();
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_TRUE(load_key_file(path));
  EXPECT_FALSE(load_key_file(dir.path() + "/absent"));
}

TEST(SecretBox, AValueMovedToAnotherPlaceDoesNotOpen) {
  auto box = SecretBox::load([] { return parse_key_file("k1 " + kKeyA + "\n", "f"); }, "f");
  ASSERT_TRUE(box);
  const Place here{"acme/web", 3, "db_password"};
  auto sealed = (*box)->seal("hunter2", here);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->key_id, "k1");
  EXPECT_EQ(*(*box)->open(*sealed, here), "hunter2");
  EXPECT_FALSE((*box)->open(*sealed, {"acme/web", 4, "db_password"}));   // another version
  EXPECT_FALSE((*box)->open(*sealed, {"acme/web", 0, "db_password"}));   // the draft
  EXPECT_FALSE((*box)->open(*sealed, {"acme/api", 3, "db_password"}));   // another namespace
  EXPECT_FALSE((*box)->open(*sealed, {"acme/web", 3, "api_password"}));  // another key
  Sealed relabelled = *sealed;
  relabelled.key_id = "k2";
  auto missing = (*box)->open(relabelled, here);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("'k2'"), std::string::npos) << missing.error();
}

TEST(SecretBox, ReloadMakesTheNewPrimaryKeepsOldValuesOpen) {
  std::string text = "k1 " + kKeyA + "\n";
  auto box = SecretBox::load([&text] { return parse_key_file(text, "f"); }, "f");
  ASSERT_TRUE(box);
  const Place here{"acme/web", 1, "k"};
  auto old_value = (*box)->seal("v", here);
  text = "k1 " + kKeyA + "\nk2 " + kKeyB + " primary\n";
  ASSERT_TRUE((*box)->reload());
  EXPECT_EQ((*box)->primary_id(), "k2");
  EXPECT_EQ((*box)->seal("v", here)->key_id, "k2");
  EXPECT_EQ(*(*box)->open(*old_value, here), "v");
  text = "broken";
  EXPECT_FALSE((*box)->reload());
  EXPECT_EQ((*box)->primary_id(), "k2");  // the ring it had
}

std::shared_ptr<SecretBox> box_of(const std::string& text) {
  return *SecretBox::load([text] { return parse_key_file(text, "f"); }, "f");
}

void exec_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(SqliteSecrets, SealedAtRestMovedRowsRefusedWrongRingRefusedAtStart) {
  test::TempDir dir;
  const std::string path = dir.path() + "/control.db";
  const NamespaceId ns = NamespaceId::trusted("acme", "web");
  {
    auto store = SqlStore::open(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->use_secrets(box_of("k1 " + kKeyA + "\n")));
    ASSERT_TRUE((*store)->create_tenant("acme", 1));
    ASSERT_TRUE((*store)->create_namespace(ns, "", 1));
    ASSERT_TRUE((*store)->put_draft_entry(ns, "a", {ValueType::string, "alpha-plain", true}));
    ASSERT_TRUE((*store)->put_draft_entry(ns, "b", {ValueType::string, "bravo-plain", true}));
    auto draft = (*store)->get_draft(ns);
    ASSERT_TRUE(draft);
    EXPECT_EQ(draft->at("a").text, "alpha-plain");
    EXPECT_TRUE(draft->at("a").secret);
    EXPECT_EQ((*(*store)->secret_counts())["k1"], 2);
  }
  // Another key's sealed value copied into b's row does not open as b.
  exec_sql(path,
           "UPDATE draft_entries SET text = (SELECT text FROM draft_entries WHERE key = 'a') "
           "WHERE key = 'b'");
  {
    auto store = SqlStore::open(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->use_secrets(box_of("k1 " + kKeyA + "\n")));
    auto draft = (*store)->get_draft(ns);
    ASSERT_FALSE(draft);
    EXPECT_NE(draft.error().message.find("'b'"), std::string::npos) << draft.error().message;
    EXPECT_EQ(draft.error().message.find("alpha-plain"), std::string::npos);
  }
  exec_sql(path, "DELETE FROM draft_entries WHERE key = 'b'");
  auto store = SqlStore::open(path);
  ASSERT_TRUE(store);
  auto none = (*store)->use_secrets(nullptr);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no master key"), std::string::npos) << none.error().message;
  auto other_bytes = (*store)->use_secrets(box_of("k1 " + kKeyB + "\n"));
  ASSERT_FALSE(other_bytes);
  EXPECT_NE(other_bytes.error().message.find("cannot open"), std::string::npos);
  auto other_id = (*store)->use_secrets(box_of("k2 " + kKeyA + "\n"));
  ASSERT_FALSE(other_id);
  EXPECT_NE(other_id.error().message.find("'k1'"), std::string::npos) << other_id.error().message;
}

TEST(SqliteSecrets, ResealMovesEveryValueToThePrimaryInBatches) {
  test::TempDir dir;
  const NamespaceId ns = NamespaceId::trusted("acme", "web");
  auto store = SqlStore::open(dir.path() + "/control.db");
  ASSERT_TRUE(store);
  std::string ring = "k1 " + kKeyA + "\n";
  auto box = *SecretBox::load([&ring] { return parse_key_file(ring, "f"); }, "f");
  ASSERT_TRUE((*store)->use_secrets(box));
  ASSERT_TRUE((*store)->create_tenant("acme", 1));
  ASSERT_TRUE((*store)->create_namespace(ns, "", 1));
  for (int i = 0; i < 10; ++i) {
    NewVersion v;
    v.content_hash = std::string(64, '0');
    v.entries = {{"plain", {ValueType::int64, std::to_string(i), false}},
                 {"s1", {ValueType::string, "one-" + std::to_string(i), true}},
                 {"s2", {ValueType::string, "two-" + std::to_string(i), true}}};
    v.replace_draft = true;
    ASSERT_TRUE((*store)->append_version(ns, v, 1));
  }
  // 10 versions x 2; the draft is version 10's entries, no rows of its own.
  EXPECT_EQ((*(*store)->secret_counts())["k1"], 20);
  ring = "k1 " + kKeyA + "\nk2 " + kKeyB + " primary\n";
  ASSERT_TRUE(box->reload());
  int batches = 0;
  for (;;) {
    auto n = (*store)->reseal_batch(3);
    ASSERT_TRUE(n) << n.error().message;
    if (*n == 0) break;
    ++batches;
  }
  EXPECT_EQ(batches, 4);  // 10 rows, 3 at a time
  auto counts = *(*store)->secret_counts();
  EXPECT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts["k2"], 20);
  ring = "k2 " + kKeyB + "\n";  // the old key leaves the ring
  ASSERT_TRUE(box->reload());
  auto v7 = (*store)->get_version(ns, 7);
  ASSERT_TRUE(v7) << v7.error().message;
  EXPECT_EQ(v7->entries.at("s2").text, "two-6");
  EXPECT_EQ(v7->entries.at("plain").text, "6");
  EXPECT_FALSE(v7->entries.at("plain").secret);
  // The draft, held by version 10, reads through the new key; edited, it
  // becomes rows sealed by it.
  auto draft = (*store)->get_draft(ns);
  ASSERT_TRUE(draft) << draft.error().message;
  EXPECT_EQ(draft->at("s1").text, "one-9");
  EXPECT_TRUE(draft->at("s1").secret);
  ASSERT_TRUE((*store)->put_draft_entry(ns, "plain", {ValueType::int64, "10", false}));
  EXPECT_EQ((*(*store)->secret_counts())["k2"], 22);
  draft = (*store)->get_draft(ns);
  ASSERT_TRUE(draft) << draft.error().message;
  EXPECT_EQ(draft->at("s2").text, "two-9");
  EXPECT_TRUE(draft->at("s2").secret);
  EXPECT_EQ(draft->at("plain").text, "10");
}

}  // namespace
}  // namespace hotswap::control::secrets
