package dev.preview.scm.source;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.ResetCommand;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.RefSpec;

/**
 * A bare repository on disk standing in for GitHub ({@code <dir>/origin.git}), with {@code main}
 * holding {@code mainFiles} and PR 7's head under {@code refs/pull/7/head}, force-pushed at will:
 * what the build-from-source tests fetch from.
 */
final class PrRepository implements AutoCloseable {
  private static final PersonIdent WHO = new PersonIdent("t", "t@example.com");

  private final Path bare;
  private final Git author;
  private final RevCommit main;

  PrRepository(Path dir, Map<String, String> mainFiles) throws Exception {
    bare = dir.resolve("origin.git");
    Git.init().setBare(true).setDirectory(bare.toFile()).setInitialBranch("main").call().close();
    author = Git.cloneRepository().setURI(bare.toUri().toString()).setDirectory(dir.resolve("author").toFile()).call();
    main = commit(mainFiles);
    author.push().setRemote("origin").setRefSpecs(new RefSpec("HEAD:refs/heads/main")).call();
  }

  /** What {@code build.repository} names. */
  String uri() {
    return bare.toUri().toString();
  }

  /** A commit on top of the checked-out one with {@code files} written. */
  RevCommit commit(Map<String, String> files) throws Exception {
    Path dir = author.getRepository().getWorkTree().toPath();
    for (var e : files.entrySet()) {
      Files.writeString(dir.resolve(e.getKey()), e.getValue());
    }
    author.add().addFilepattern(".").call();
    return author.commit().setMessage(files.keySet().toString()).setAuthor(WHO).setCommitter(WHO).call();
  }

  /** PR 7's head rewritten (a force-push): main plus {@code message.txt} = {@code message}. */
  RevCommit pushPr(String message) throws Exception {
    author.reset().setMode(ResetCommand.ResetType.HARD).setRef(main.name()).call();
    RevCommit c = commit(Map.of("message.txt", message));
    author.push().setRemote("origin").setForce(true).setRefSpecs(new RefSpec("+" + c.name() + ":refs/pull/7/head")).call();
    return c;
  }

  @Override
  public void close() {
    author.close();
  }
}
