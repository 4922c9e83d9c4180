package dev.preview.server.ui;

import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this replica may act, and who does if it may not: what the dashboard and the PR comment
 * commands ask before an action. A replica that does not lead still shows everything (pages and
 * {@code GET /api/...} read the infrastructure, which every replica sees alike); its actions and
 * commands are refused with an answer that names the leader when it is known. A failing check counts
 * as "does not lead" (never act twice). Immutable; the suppliers must be cheap and thread-safe (e.g.
 * {@code election::isLeader} and {@code election::leader} of {@code dev.preview.k8s.LeaderElection}).
 */
public final class Leadership {
  private static final Logger LOG = LoggerFactory.getLogger(Leadership.class);
  private static final Leadership ALWAYS = new Leadership(() -> true, Optional::empty);

  private final BooleanSupplier isLeader;
  private final Supplier<Optional<String>> leader;

  private Leadership(BooleanSupplier isLeader, Supplier<Optional<String>> leader) {
    this.isLeader = isLeader;
    this.leader = leader;
  }

  /** A single replica: always leads. */
  public static Leadership always() {
    return ALWAYS;
  }

  /**
   * @param isLeader whether this replica leads now
   * @param leader the identity of the replica that leads (a pod name), if known
   */
  public static Leadership of(BooleanSupplier isLeader, Supplier<Optional<String>> leader) {
    return new Leadership(Objects.requireNonNull(isLeader, "isLeader"), Objects.requireNonNull(leader, "leader"));
  }

  /** Whether this replica may act now. */
  public boolean leads() {
    try {
      return isLeader.getAsBoolean();
    } catch (RuntimeException e) {
      LOG.warn("leadership check failed, not acting: {}", e.toString());
      return false;
    }
  }

  /** Who leads, if known (and not this replica's business to guess). */
  public Optional<String> leader() {
    try {
      return leader.get().filter(s -> !s.isBlank()).map(Leadership::clean);
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** "this replica does not lead (the leader is preview-1): ... " for an action that was not carried out. */
  String refusal(String what) {
    return "not done: this replica does not lead" + leader().map(l -> " (the leader is " + l + ")").orElse(" (the leader is not known right now)")
        + "; " + what + " is carried out only by the leader: use the leader's dashboard, or try again shortly";
  }

  private static String clean(String s) {
    String c = s.replaceAll("[^A-Za-z0-9._:@/-]", "?");
    return c.length() > 128 ? c.substring(0, 128) : c;
  }
}
