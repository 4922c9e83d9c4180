package dev.preview.core.local;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * What a state file holds about one preview's process. Never a secret nor anything derived from
 * one (no hash of a value: that would let a reader confirm a guessed secret offline): only the
 * names of the secrets, and a fingerprint of the rest of the spec that tells whether a re-apply
 * changes anything.
 *
 * @param key the {@link dev.preview.spi.PreviewKey#id()}
 * @param instance the {@link dev.preview.spi.Installation#instance()} that owns the file; null in files
 *     written before it was recorded (then no installation owns it)
 * @param revision the revision the current process runs
 * @param fingerprint SHA-256 of the spec's command, plain env, secret names, flags and hostname
 * @param pid the current process, 0 when none (suspended, or written just before starting it)
 * @param startedAt the current process's start instant (ISO-8601), guards against PID reuse
 * @param port the port the app was told to listen on
 * @param url where it answers
 * @param labels ownership and lifecycle labels of the spec
 * @param command the command line run
 * @param workDir its working directory
 * @param logFile where its output goes
 * @param env plain env vars it was given (for a resume after a restart)
 * @param secretNames names of the secret env vars it was given (values are not stored)
 * @param suspended whether it was stopped by a suspend
 * @param previous processes of an older revision still to be stopped (repaired by the next call)
 * @param updatedAt when this file was written (ISO-8601)
 * @param uid the user id the process runs as with {@code environment.user} (null: this JVM's user)
 * @param fallback the previous revision's state while its process keeps serving on its own port until
 *     the readiness gate accepts this revision (then it is stopped) or rejects it (then it is the
 *     state again); null otherwise. Never has a fallback of its own.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
record LocalState(
    String key,
    String instance,
    String revision,
    String fingerprint,
    long pid,
    String startedAt,
    int port,
    String url,
    Map<String, String> labels,
    List<String> command,
    String workDir,
    String logFile,
    Map<String, String> env,
    List<String> secretNames,
    boolean suspended,
    List<Proc> previous,
    String updatedAt,
    Integer uid,
    LocalState fallback) {

  LocalState {
    labels = labels == null ? Map.of() : labels;
    command = command == null ? List.of() : command;
    env = env == null ? Map.of() : env;
    secretNames = secretNames == null ? List.of() : secretNames;
    previous = previous == null ? List.of() : previous;
  }

  /** A process recorded by PID and start instant. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Proc(long pid, String startedAt) {}

  LocalState withProcess(long newPid, String newStartedAt, String now) {
    return new LocalState(key, instance, revision, fingerprint, newPid, newStartedAt, port, url, labels, command,
        workDir, logFile, env, secretNames, suspended, previous, now, uid, fallback);
  }

  LocalState withPrevious(List<Proc> procs, String now) {
    return new LocalState(key, instance, revision, fingerprint, pid, startedAt, port, url, labels, command,
        workDir, logFile, env, secretNames, suspended, procs, now, uid, fallback);
  }

  LocalState withSuspended(boolean s, String now) {
    return new LocalState(key, instance, revision, fingerprint, s ? 0 : pid, s ? null : startedAt, port, url, labels,
        command, workDir, logFile, env, secretNames, s, previous, now, uid, fallback);
  }

  LocalState withFallback(LocalState f, String now) {
    return new LocalState(key, instance, revision, fingerprint, pid, startedAt, port, url, labels, command,
        workDir, logFile, env, secretNames, suspended, previous, now, uid, f);
  }

  LocalState withLabels(Map<String, String> l, String now) {
    return new LocalState(key, instance, revision, fingerprint, pid, startedAt, port, url, l, command,
        workDir, logFile, env, secretNames, suspended, previous, now, uid, fallback);
  }
}
