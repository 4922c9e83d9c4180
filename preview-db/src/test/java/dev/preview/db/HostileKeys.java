package dev.preview.db;

import dev.preview.spi.PreviewKey;
import java.util.List;

/** Preview keys built to break naive naming: quotes, SQL, unicode, 300 chars, near-collisions. */
public final class HostileKeys {
  private HostileKeys() {}

  public static List<PreviewKey> all() {
    return List.of(
        PreviewKey.branch("acme/shop", "it's-a-\"quote\";DROP-TABLE-users;--`x`\\"),
        PreviewKey.branch("acme/shop", "ünïcødé-分支-🚀"),
        PreviewKey.branch("acme/shop", "x".repeat(250) + "/a"),
        PreviewKey.branch("acme/shop", "x".repeat(250) + "/b"),
        PreviewKey.branch("acme/Shop", "x".repeat(250) + "/a"),
        PreviewKey.pr("a-very-long-owner-" + "o".repeat(80) + "/" + "r".repeat(150), 2147483647),
        PreviewKey.branch("acme-" + "o".repeat(40) + "/shop", "b".repeat(254) + "'")); // an id of 306 chars
  }
}
