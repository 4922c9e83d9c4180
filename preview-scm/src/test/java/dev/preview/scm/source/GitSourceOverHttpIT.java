package dev.preview.scm.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import dev.preview.spi.SourceFetcher;
import dev.preview.testkit.Servers;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.RefSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GitSource} against a real git server over HTTP: Git's own {@code git http-backend} behind
 * busybox httpd (CGI, with basic auth on the repository path, as a private GitHub or GitLab repository
 * wants a token). The PR ref, a fork-style ref and a force-push; a wrong token is a clear error that
 * never shows the token.
 */
class GitSourceOverHttpIT {
  private static final Path BUSYBOX = Path.of("/bin/busybox");
  private static final Path GIT = Path.of("/usr/bin/git");
  private static final Secret TOKEN = Secret.of("ghp_httpT0kenForTheIT");

  @TempDir Path tmp;
  private Process httpd;
  private String url;
  private Git author;

  @BeforeEach
  void server() throws Exception {
    Servers.require("busybox httpd (/bin/busybox, Debian's busybox-static) and git http-backend (/usr/bin/git)",
        Files.isExecutable(BUSYBOX) && Files.isExecutable(GIT), ".ci/servers/docker.sh (installs busybox-static); apt-get install git");
    Path repos = Files.createDirectories(tmp.resolve("repos"));
    Git.init().setBare(true).setDirectory(repos.resolve("origin.git").toFile()).setInitialBranch("main").call().close();
    author = Git.cloneRepository().setURI(repos.resolve("origin.git").toUri().toString())
        .setDirectory(tmp.resolve("author").toFile()).call();
    RevCommit main = commit("README", "main\n");
    push(main, "refs/heads/main");

    Path cgi = Files.createDirectories(tmp.resolve("www/cgi-bin")).resolve("git");
    Files.writeString(cgi, "#!/bin/sh\nGIT_PROJECT_ROOT='" + repos + "' GIT_HTTP_EXPORT_ALL=1 exec " + GIT + " http-backend\n");
    Files.setPosixFilePermissions(cgi, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path conf = tmp.resolve("httpd.conf");
    // GitHub takes the token as the password of x-access-token, GitLab of oauth2
    Files.writeString(conf, "/cgi-bin:x-access-token:" + TOKEN.reveal() + "\n/cgi-bin:oauth2:" + TOKEN.reveal() + "\n");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    httpd = new ProcessBuilder(BUSYBOX.toString(), "httpd", "-f", "-p", "127.0.0.1:" + port, "-h", tmp.resolve("www").toString(),
        "-c", conf.toString()).redirectErrorStream(true).redirectOutput(tmp.resolve("httpd.log").toFile()).start();
    await().atMost(Duration.ofSeconds(10)).until(() -> answers(port));
    url = "http://127.0.0.1:" + port + "/cgi-bin/git/origin.git";
  }

  @AfterEach
  void stop() {
    if (author != null) {
      author.close();
    }
    if (httpd != null) {
      httpd.destroyForcibly();
    }
  }

  private static boolean answers(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private RevCommit commit(String file, String text) throws Exception {
    Path f = author.getRepository().getWorkTree().toPath().resolve(file);
    Files.createDirectories(f.getParent());
    Files.writeString(f, text);
    author.add().addFilepattern(".").call();
    PersonIdent who = new PersonIdent("t", "t@example.com");
    return author.commit().setMessage(file).setAuthor(who).setCommitter(who).call();
  }

  private void push(ObjectId id, String ref) throws Exception {
    author.push().setRemote("origin").setForce(true).setRefSpecs(new RefSpec("+" + id.name() + ":" + ref)).call();
  }

  private GitSource source(String scm, Secret token) {
    return GitSource.create(new SourceFetcher.Origin(scm, null, url, token));
  }

  private static String head(Path workspace) throws Exception {
    try (Repository r = Git.open(workspace.toFile()).getRepository()) {
      return r.resolve("HEAD").name();
    }
  }

  @Test
  void fetchesThePrRefOverHttpWithTheTokenThenFollowsAForcePush() throws Exception {
    RevCommit v1 = commit("web/index.html", "pr 7 v1\n");
    push(v1, "refs/pull/7/head");
    Path ws = tmp.resolve("ws");
    GitSource git = source("github", TOKEN);

    git.fetch(PreviewKey.pr("acme/shop", 7), v1.name(), ws);
    assertThat(head(ws)).isEqualTo(v1.name());
    assertThat(Files.readString(ws.resolve("web/index.html"), StandardCharsets.UTF_8)).isEqualTo("pr 7 v1\n");

    author.reset().setMode(org.eclipse.jgit.api.ResetCommand.ResetType.HARD).setRef("HEAD~1").call();
    RevCommit v2 = commit("web/index.html", "pr 7 rewritten\n");
    push(v2, "refs/pull/7/head"); // a force-push: v1 is no longer on the ref
    git.fetch(PreviewKey.pr("acme/shop", 7), v2.name(), ws);
    assertThat(head(ws)).isEqualTo(v2.name());
    assertThat(Files.readString(ws.resolve("web/index.html"), StandardCharsets.UTF_8)).isEqualTo("pr 7 rewritten\n");
  }

  @Test
  void aForkStyleMergeRequestRefIsFetchedOverHttp() throws Exception {
    RevCommit fork = commit("web/index.html", "from a fork\n");
    push(fork, "refs/merge-requests/9/head");
    Path ws = tmp.resolve("ws-fork");

    source("gitlab", TOKEN).fetch(PreviewKey.pr("acme/shop", 9), fork.name(), ws);

    assertThat(head(ws)).isEqualTo(fork.name());
    assertThat(Files.readString(ws.resolve("web/index.html"), StandardCharsets.UTF_8)).isEqualTo("from a fork\n");
  }

  @Test
  void aWrongTokenIsAClearErrorThatNeverShowsTheToken() throws Exception {
    RevCommit v1 = commit("web/index.html", "pr 7\n");
    push(v1, "refs/pull/7/head");
    Secret wrong = Secret.of("ghp_wrongT0kenNeverShown");

    assertThatThrownBy(() -> source("github", wrong).fetch(PreviewKey.pr("acme/shop", 7), v1.name(), tmp.resolve("ws-bad")))
        .isInstanceOf(ProviderException.class)
        .satisfies(e -> assertThat(e.getMessage()).contains("127.0.0.1")
            .doesNotContain(wrong.reveal()).doesNotContain(TOKEN.reveal()));
    assertThat(Files.exists(tmp.resolve("ws-bad").resolve("web/index.html"))).as("nothing checked out").isFalse();
  }
}
