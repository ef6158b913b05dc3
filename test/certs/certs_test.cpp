// certs/make-certs.sh: the chain verifies for the Service's DNS names, the keys are private, a
// second run changes nothing, and a set that no longer fits is renewed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "test/support/process.h"

namespace fs = std::filesystem;

namespace {

using aw::test::readFile;
using aw::test::RunResult;
using aw::test::shellQuote;

// The script reports on standard error; the tests read both streams as one.
RunResult run(const std::string& command) {
  return aw::test::runShell(command + " 2>&1");
}

const fs::path kScript = fs::path(AW_SOURCE_DIR) / "certs/make-certs.sh";
const std::vector<std::string> kFiles = {"ca.crt",  "ca.key",     "tls.crt",
                                         "tls.key", "client.crt", "client.key"};

// A file's content and modification time: "unchanged" means both are.
struct Snapshot {
  std::string content;
  timespec mtime{};
  bool operator==(const Snapshot& o) const {
    return content == o.content && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

std::map<std::string, Snapshot> snapshot(const fs::path& dir) {
  std::map<std::string, Snapshot> m;
  for (const std::string& f : kFiles) {
    struct stat st {};
    if (stat((dir / f).c_str(), &st) == 0) m[f] = {readFile(dir / f), st.st_mtim};
  }
  return m;
}

class MakeCerts : public testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "openssl is not installed (scripts/build-packages.txt lists it)";
    }
    std::string tmpl = (fs::temp_directory_path() / "aw-certs-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    tmp_ = tmpl;
    out_ = tmp_ / "out";
  }
  void TearDown() override {
    std::error_code ec;
    if (!tmp_.empty()) fs::remove_all(tmp_, ec);
  }

  RunResult make(const std::string& args) {
    return run(shellQuote(kScript.string()) + " --out " + shellQuote(out_.string()) + " " + args);
  }
  std::string openssl(const std::string& args, int* status = nullptr) {
    const RunResult c = run("openssl " + args);
    if (status != nullptr) *status = c.status;
    return c.out;
  }
  std::string file(const std::string& name) const { return shellQuote((out_ / name).string()); }

  // openssl verify against the CA, for a purpose and optionally a host name or IP address.
  bool verifies(const std::string& cert, const std::string& purpose,
                const std::string& extra = "") {
    int status = -1;
    const std::string out = openssl("verify -CAfile " + file("ca.crt") + " -purpose " + purpose +
                                        " " + extra + " " + file(cert),
                                    &status);
    return status == 0 && out.find(": OK") != std::string::npos;
  }

  fs::path tmp_, out_;
};

TEST_F(MakeCerts, ServerCertificateVerifiesForEveryServiceName) {
  const RunResult c = make("--namespace ns-a --service svc-b");
  ASSERT_EQ(c.status, 0) << c.out;
  for (const std::string& f : kFiles) EXPECT_TRUE(fs::exists(out_ / f)) << f;

  EXPECT_TRUE(verifies("tls.crt", "sslserver"));
  const std::string sans = openssl("x509 -noout -ext subjectAltName -in " + file("tls.crt"));
  for (const std::string name :
       {"localhost", "svc-b", "svc-b.ns-a", "svc-b.ns-a.svc", "svc-b.ns-a.svc.cluster.local"}) {
    EXPECT_NE(sans.find("DNS:" + name + ","), std::string::npos) << name << " in " << sans;
    // A client that checks the host name accepts the certificate for it.
    EXPECT_TRUE(verifies("tls.crt", "sslserver", "-verify_hostname " + name)) << name;
  }
  EXPECT_NE(sans.find("IP Address:127.0.0.1"), std::string::npos) << sans;
  EXPECT_TRUE(verifies("tls.crt", "sslserver", "-verify_ip 127.0.0.1"));
  EXPECT_FALSE(verifies("tls.crt", "sslserver", "-verify_hostname svc-b.other.svc"));
  // Serving only: not a client certificate, not a CA.
  EXPECT_FALSE(verifies("tls.crt", "sslclient"));
  const std::string text = openssl("x509 -noout -text -in " + file("tls.crt"));
  EXPECT_NE(text.find("TLS Web Server Authentication"), std::string::npos);
  EXPECT_NE(text.find("CA:FALSE"), std::string::npos);
}

TEST_F(MakeCerts, ClientCertificateIsForTheApiServer) {
  ASSERT_EQ(make("--namespace ns-a").status, 0);
  EXPECT_TRUE(verifies("client.crt", "sslclient"));
  EXPECT_FALSE(verifies("client.crt", "sslserver"));
  const std::string subject = openssl("x509 -noout -subject -in " + file("client.crt"));
  EXPECT_NE(subject.find("CN = kube-apiserver"), std::string::npos) << subject;
  const std::string text = openssl("x509 -noout -text -in " + file("client.crt"));
  EXPECT_NE(text.find("TLS Web Client Authentication"), std::string::npos);
}

TEST_F(MakeCerts, CaIsACa) {
  ASSERT_EQ(make("--namespace ns-a").status, 0);
  const std::string bc = openssl("x509 -noout -ext basicConstraints -in " + file("ca.crt"));
  EXPECT_NE(bc.find("CA:TRUE"), std::string::npos) << bc;
  int status = -1;
  openssl("verify -CAfile " + file("ca.crt") + " " + file("ca.crt"), &status);
  EXPECT_EQ(status, 0) << "self-signed";
}

TEST_F(MakeCerts, KeysArePrivateAndMatchTheirCertificates) {
  ASSERT_EQ(make("--namespace ns-a").status, 0);
  for (const std::string name : {"ca", "tls", "client"}) {
    SCOPED_TRACE(name);
    struct stat st {};
    ASSERT_EQ(stat((out_ / (name + ".key")).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const std::string fromKey = openssl("pkey -pubout -in " + file(name + ".key"));
    const std::string fromCert = openssl("x509 -noout -pubkey -in " + file(name + ".crt"));
    EXPECT_NE(fromKey.find("BEGIN PUBLIC KEY"), std::string::npos) << fromKey;
    EXPECT_EQ(fromKey, fromCert);
  }
}

TEST_F(MakeCerts, SecondRunLeavesEverythingUnchanged) {
  ASSERT_EQ(make("--namespace ns-a").status, 0);
  const auto before = snapshot(out_);
  ASSERT_EQ(before.size(), kFiles.size());
  const RunResult again = make("--namespace ns-a");
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_NE(again.out.find("nothing to do"), std::string::npos) << again.out;
  EXPECT_TRUE(snapshot(out_) == before);
  // Nothing else appeared (no serial files, no scratch folders).
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(out_)) ++entries;
  EXPECT_EQ(entries, kFiles.size());
}

TEST_F(MakeCerts, ForceRenewsEverything) {
  ASSERT_EQ(make("--namespace ns-a").status, 0);
  const auto before = snapshot(out_);
  ASSERT_EQ(make("--namespace ns-a --force").status, 0);
  const auto after = snapshot(out_);
  for (const std::string& f : kFiles) EXPECT_NE(after.at(f).content, before.at(f).content) << f;
  EXPECT_TRUE(verifies("tls.crt", "sslserver"));
}

// Other names: new server and client certificates from the same CA, so the caBundle installed in
// a cluster stays valid.
TEST_F(MakeCerts, OtherNamesRenewTheLeavesAndKeepTheCa) {
  ASSERT_EQ(make("--namespace ns-a").status, 0);
  const auto before = snapshot(out_);
  ASSERT_EQ(make("--namespace ns-b").status, 0);
  const auto after = snapshot(out_);
  EXPECT_TRUE(after.at("ca.crt") == before.at("ca.crt"));
  EXPECT_TRUE(after.at("ca.key") == before.at("ca.key"));
  EXPECT_NE(after.at("tls.crt").content, before.at("tls.crt").content);
  EXPECT_TRUE(verifies("tls.crt", "sslserver", "-verify_hostname alliance-webhook.ns-b.svc"));
  EXPECT_FALSE(verifies("tls.crt", "sslserver", "-verify_hostname alliance-webhook.ns-a.svc"));
}

TEST_F(MakeCerts, CertificatesCloseToExpiryAreRenewed) {
  // Valid for one day: kept by a run with --days 1 (renewal at half its life)...
  ASSERT_EQ(make("--namespace ns-a --days 1").status, 0);
  const auto shortLived = snapshot(out_);
  ASSERT_EQ(make("--namespace ns-a --days 1").status, 0);
  EXPECT_TRUE(snapshot(out_) == shortLived);
  // ...renewed by a default run, which renews certificates expiring within a week.
  ASSERT_EQ(make("--namespace ns-a").status, 0);
  const auto renewed = snapshot(out_);
  EXPECT_NE(renewed.at("tls.crt").content, shortLived.at("tls.crt").content);
  EXPECT_NE(renewed.at("client.crt").content, shortLived.at("client.crt").content);
  EXPECT_TRUE(renewed.at("ca.crt") == shortLived.at("ca.crt")) << "the CA has 10 years";
  int status = -1;
  openssl("x509 -noout -checkend " + std::to_string(300 * 86400) + " -in " + file("tls.crt"),
          &status);
  EXPECT_EQ(status, 0) << "the renewed certificate is valid for a year";
}

TEST_F(MakeCerts, BrokenSetIsRepaired) {
  ASSERT_EQ(make("--namespace ns-a").status, 0);
  // A server key that does not belong to the certificate.
  fs::copy_file(out_ / "client.key", out_ / "tls.key", fs::copy_options::overwrite_existing);
  ASSERT_EQ(make("--namespace ns-a").status, 0);
  EXPECT_EQ(openssl("pkey -pubout -in " + file("tls.key")),
            openssl("x509 -noout -pubkey -in " + file("tls.crt")));
  // A missing CA key: a new CA, and leaves signed by it.
  fs::remove(out_ / "ca.key");
  ASSERT_EQ(make("--namespace ns-a").status, 0);
  EXPECT_TRUE(fs::exists(out_ / "ca.key"));
  EXPECT_TRUE(verifies("tls.crt", "sslserver"));
  EXPECT_TRUE(verifies("client.crt", "sslclient"));
}

TEST_F(MakeCerts, UsageErrorsSayWhatIsWrong) {
  struct Case {
    std::string args, says;
  };
  const std::vector<Case> cases = {
      {"", "--namespace is required"},
      {"--namespace ns-a --days abc", "--days abc"},
      {"--namespace Not_A_Name", "--namespace Not_A_Name"},
      {"--namespace ns-a --bogus", "unknown argument '--bogus'"},
      {"--namespace ns-a --kustomize " + shellQuote((tmp_ / "k").string()) + " --kustomize-base " +
           shellQuote((tmp_ / "nowhere").string()),
       "no kustomization.yaml"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    const RunResult r = make(c.args);
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.out.find(c.says), std::string::npos) << r.out;
  }
  const RunResult noOut = run(shellQuote(kScript.string()) + " --namespace ns-a");
  EXPECT_NE(noOut.status, 0);
  EXPECT_NE(noOut.out.find("--out is required"), std::string::npos) << noOut.out;
  EXPECT_EQ(run(shellQuote(kScript.string()) + " --help").status, 0);
}

}  // namespace
