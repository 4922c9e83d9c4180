package dev.preview.db.redis;

import dev.preview.db.internal.OwnerMark;
import dev.preview.db.internal.Passwords;
import dev.preview.db.internal.WideHash;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.args.FlushMode;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.RestoreParams;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * A key space per preview on a shared Redis.
 *
 * <ul>
 *   <li>Mode {@code acl} (Redis 6+, the default): an ACL user per preview ({@link #userOf}) with a
 *       generated password, deny-by-default ({@code -@all} plus the key-scoped data commands, see
 *       {@link #aclRules} and the module README), allowed only keys and pub/sub channels under the
 *       preview's prefix ({@link #prefixOf}): no scripting or functions, no other database, nothing
 *       that lists or counts the key space or shows other clients. The user carries its ownership
 *       mark in a key pattern within its prefix, and {@code ACL SAVE} follows every change when the
 *       server has an aclfile. The app gets {@code REDIS_URL} with those credentials and
 *       {@code REDIS_PREFIX}.</li>
 *   <li>Mode {@code database} (servers without ACLs): a database index leased from a configured
 *       range, atomically (a Lua script), recorded on the server. There is one password for the
 *       whole server there, so this mode separates previews but cannot isolate them.</li>
 * </ul>
 * An optional baseline is a key prefix whose keys are copied (DUMP/RESTORE, TTLs kept) under the
 * preview's prefix (or into its database, prefix removed). Ownership lives on the server in hashes
 * under {@code preview-registry:} in the admin's database, written before anything else and
 * deleted last; a copy that was cut short is redone by the next {@link #create}. Marks and leases
 * record the installation's instance, and {@link #list()} returns only this installation's keys, so
 * several installations may share one server (and one lease range). {@link #drop}
 * deletes the user (which disconnects its clients), then the keys with {@code SCAN} + {@code UNLINK}
 * (never {@code KEYS}, which blocks the server), or flushes the leased database.
 */
public final class RedisDatabaseProvider implements DatabaseProvider {
  /** {@code database.provider: redis}. */
  public static final String NAME = "redis";
  private static final Logger LOG = LoggerFactory.getLogger(RedisDatabaseProvider.class);
  static final String ACL_USERS = "preview-registry:acl-users";
  static final String ACL_READY = "preview-registry:acl-ready";
  static final String LEASES = "preview-registry:leases";
  static final String LEASE_MARKS = "preview-registry:lease-marks";
  static final String LEASE_READY = "preview-registry:lease-ready";
  /** Where a user's key patterns carry its ownership mark: {@code ~<prefix>preview-owner=<base64url>}. */
  static final String MARK_TAG = "preview-owner=";
  /** Longest ACL user name this version generates (Redis has no limit; the readable part is cut). */
  static final int USER_MAX = 100;
  private static final Pattern BAD_MODIFIER = Pattern.compile("modifier '([^']+)'");
  // find the lease of ARGV[1], or take the first free index in [ARGV[2], ARGV[3]]; {index, 1 if new}
  private static final String LEASE_SCRIPT = """
      local all = redis.call('HGETALL', KEYS[1])
      for i = 1, #all, 2 do
        if all[i + 1] == ARGV[1] then return {tonumber(all[i]), 0} end
      end
      for idx = tonumber(ARGV[2]), tonumber(ARGV[3]) do
        if redis.call('HSETNX', KEYS[1], tostring(idx), ARGV[1]) == 1 then return {idx, 1} end
      end
      return {-1, 0}""";

  /** ACL users per preview, or leased database indexes. */
  public enum Mode { ACL, DATABASE }

  private final String host;
  private final int port;
  private final boolean tls;
  private final int adminDb;
  private final String username;
  private final Secret password;
  private final Mode mode;
  private final String baseline;
  private final int firstDb;
  private final int lastDb;
  private final String appHost;
  private final int appPort;
  private final Installation installation;

  private RedisDatabaseProvider(Builder b, URI uri) {
    this.installation = b.installation;
    this.host = uri.getHost();
    this.port = uri.getPort() > 0 ? uri.getPort() : 6379;
    this.tls = "rediss".equals(uri.getScheme());
    String path = uri.getPath() == null ? "" : uri.getPath().replace("/", "");
    this.adminDb = path.isEmpty() ? 0 : Integer.parseInt(path);
    this.username = b.username;
    this.password = b.password;
    this.mode = b.mode;
    this.baseline = b.baseline;
    this.firstDb = b.firstDb;
    this.lastDb = b.lastDb;
    this.appHost = b.appHost != null ? b.appHost : host;
    this.appPort = b.appPort > 0 ? b.appPort : port;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The ACL user of {@code key} in the default installation (mode acl), as this version names a new one. */
  public static String user(PreviewKey key) {
    return userName(Installation.defaults(), key);
  }

  /**
   * The ACL user this version gives {@code key} in this provider's installation (mode acl):
   * {@code pv-<readable, at most 80>-<16 hex digits of the installation and the full key>}. A preview
   * made by an earlier version keeps its user ({@code pv-<Names.dnsLabel>}, found through its
   * registry mark); {@link #prefixOf} follows the user.
   */
  public String userOf(PreviewKey key) {
    return userName(installation, key);
  }

  private static String userName(Installation installation, PreviewKey key) {
    return WideHash.name("pv", installation, key, '-', USER_MAX, String::length);
  }

  /**
   * The key (and channel) prefix of a new preview of {@code key} (mode acl): {@code preview:<user
   * without pv->:}. The label has no {@code :}, so no preview's prefix starts with another's.
   */
  public String prefixOf(PreviewKey key) {
    return prefixOfUser(userOf(key));
  }

  private static String prefixOfUser(String user) {
    return "preview:" + user.substring("pv-".length()) + ":";
  }

  /**
   * What a lease records as its holder (mode database): the key's id in the default installation (as
   * earlier versions did), {@code <instance> <id>} in a named one (a repository has no space, so such
   * a holder never parses as a key of the default installation).
   */
  private String holder(PreviewKey key) {
    return installation.isDefault() ? key.id() : installation.instance() + " " + key.id();
  }

  /** The key of a lease holder if it is this installation's. */
  private Optional<PreviewKey> heldBy(String holder) {
    String id = holder;
    if (!installation.isDefault()) {
      String head = installation.instance() + " ";
      if (!holder.startsWith(head)) {
        return Optional.empty();
      }
      id = holder.substring(head.length());
    }
    try {
      return Optional.of(PreviewKey.parse(id));
    } catch (IllegalArgumentException notOurs) {
      return Optional.empty();
    }
  }

  @Override
  public DatabaseConnection create(PreviewKey key, DatabaseSpec spec) {
    Objects.requireNonNull(key, "key");
    DatabaseSpec s = spec == null ? DatabaseSpec.empty() : spec;
    String source = s.baseline() != null ? s.baseline() : baseline;
    String mark = OwnerMark.encode(installation, key, s.labels());
    try (Jedis j = connect(adminDb)) {
      return mode == Mode.ACL ? createAcl(j, key, mark, source) : createLease(j, key, mark, source);
    } catch (JedisException e) {
      throw failure("cannot create the key space of " + key, e);
    }
  }

  private DatabaseConnection createAcl(Jedis j, PreviewKey key, String mark, String source) {
    Map<String, String> registry = j.hgetAll(ACL_USERS);
    Map<String, AclUser> users = aclUsers(j);
    String user = resolveUser(registry, users, key);
    String prefix = prefixOfUser(user);
    requireOwner(registry.get(user), user, key);
    AclUser existing = users.get(user);
    if (existing != null) {
      requireAclOwner(existing, registry.get(user) != null, key);
    }
    warnIfDefaultUserIsOpen(users);
    j.hset(ACL_USERS, user, mark); // first: whatever follows is found by list() and dropped by drop()
    Secret pw = Passwords.generate();
    setUser(j, user, pw, prefix, key);
    persistAcl(j);
    if (!"1".equals(j.hget(ACL_READY, user))) {
      unlinkMatching(j, prefix); // a copy cut short
      if (source != null) {
        copy(j, j, source, prefix);
      }
      j.hset(ACL_READY, user, "1");
      LOG.info("redis: made user {} for {} (prefix {}, baseline {})", user, key, prefix, source == null ? "none" : source);
    }
    String url = scheme() + "://" + user + ":" + pw.reveal() + "@" + appHost + ":" + appPort + "/" + adminDb;
    Map<String, String> env = new LinkedHashMap<>();
    env.put("REDIS_HOST", appHost);
    env.put("REDIS_PORT", Integer.toString(appPort));
    env.put("REDIS_DB", Integer.toString(adminDb));
    env.put("REDIS_USERNAME", user);
    env.put("REDIS_PREFIX", prefix);
    Map<String, Secret> secrets = new LinkedHashMap<>();
    secrets.put("REDIS_URL", Secret.of(url));
    secrets.put("REDIS_PASSWORD", pw);
    // the plain URL names the user (not its password): previews share the server, not the identity
    return new DatabaseConnection(prefix, scheme() + "://" + user + "@" + appHost + ":" + appPort + "/" + adminDb,
        user, pw, env, secrets);
  }

  /**
   * The user of {@code key}: the one its registry mark or its ACL mark names (a preview made by an
   * earlier version keeps its name), else the name this version gives it.
   */
  private String resolveUser(Map<String, String> registry, Map<String, AclUser> users, PreviewKey key) {
    for (Map.Entry<String, String> e : new java.util.TreeMap<>(registry).entrySet()) {
      if (e.getKey().startsWith("pv-") && OwnerMark.owner(installation, e.getValue()).filter(key::equals).isPresent()) {
        return e.getKey();
      }
    }
    for (AclUser u : users.values()) {
      if (u.mark() != null && OwnerMark.owner(installation, u.mark()).filter(key::equals).isPresent()) {
        return u.name();
      }
    }
    return userOf(key);
  }

  /** A user that exists on the server is adopted only if its own mark (or our registry) says it is this key's. */
  private void requireAclOwner(AclUser u, boolean registeredToKey, PreviewKey key) {
    if (u.mark() == null) {
      if (registeredToKey) {
        return; // made by a version that wrote no ACL mark; the registry says it is ours
      }
      throw new ProviderException(NAME, "redis user " + u.name() + " exists but is not managed by preview; refusing to adopt it for "
          + key + ". Delete it (ACL DELUSER " + u.name() + ") or rename it by hand.", false);
    }
    requireOwner(u.mark(), u.name(), key);
  }

  /**
   * The preview's ACL user, deny-by-default: {@code -@all} plus the data commands an app needs on
   * its own keys and channels (see the module README for the exact set and why each server-wide
   * command is left out). The user also carries its ownership mark as a key pattern inside its
   * own prefix ({@code ~<prefix>preview-owner=<base64url mark>}), which grants nothing more, but
   * lives wherever the user lives (an aclfile, a replica), so {@link #list()} finds a user whose
   * registry entry is gone.
   */
  private void setUser(Jedis j, String user, Secret pw, String prefix, PreviewKey key) {
    List<String> rules = new ArrayList<>(aclRules(prefix, adminDb));
    rules.add(2, ">" + pw.reveal());
    rules.add(4, "~" + prefix + MARK_TAG + Base64.getUrlEncoder().withoutPadding()
        .encodeToString(OwnerMark.encode(installation, key, Map.of()).getBytes(StandardCharsets.UTF_8)));
    for (int attempt = 0; ; attempt++) {
      try {
        j.aclSetUser(user, rules.toArray(String[]::new));
        return;
      } catch (JedisDataException e) {
        String msg = String.valueOf(e.getMessage());
        Matcher m = BAD_MODIFIER.matcher(msg);
        if (msg.contains("resetchannels") && rules.remove("resetchannels")) {
          // Redis 6.0 has no channel rules: its users reach every channel
          rules.remove("&" + prefix + "*");
        } else if (m.find() && m.group(1).startsWith("+") && attempt < rules.size() && rules.remove(m.group(1))) {
          // a command this server does not have (EXPIRETIME before 7.0, CLIENT SETINFO before 7.2): one right less
          LOG.debug("redis: this server has no {}; user {} goes without it", m.group(1), user);
        } else {
          throw e;
        }
      }
    }
  }

  /**
   * The ACL rules of a preview's user, without its password and mark: what the module README
   * documents, in this order.
   */
  static List<String> aclRules(String prefix, int db) {
    List<String> rules = new ArrayList<>(List.of("reset", "on", "~" + prefix + "*", "resetchannels", "&" + prefix + "*", "-@all"));
    for (String category : DATA_CATEGORIES) {
      rules.add("+@" + category);
    }
    rules.add("-@dangerous"); // SORT (BY/GET read other keys), PFDEBUG, PFSELFTEST come with the categories above
    for (String command : COMMANDS) {
      rules.add("+" + command);
    }
    rules.add("+select|" + db); // the app's own database only: SELECT to any other is denied
    return rules;
  }

  /** Key-scoped data types and transactions: every command in these names its keys, which the key pattern checks. */
  static final List<String> DATA_CATEGORIES = List.of(
      "string", "hash", "list", "set", "sortedset", "stream", "bitmap", "hyperloglog", "geo", "transaction");
  /** Key-scoped commands of {@code @keyspace}, pub/sub on the channel pattern, and the connection's own state. */
  static final List<String> COMMANDS = List.of(
      "del", "unlink", "exists", "type", "touch", "rename", "renamenx",
      "expire", "pexpire", "expireat", "pexpireat", "expiretime", "pexpiretime", "ttl", "pttl", "persist",
      "publish", "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "spublish", "ssubscribe", "sunsubscribe",
      "ping", "echo", "hello", "auth", "quit",
      "client|setname", "client|getname", "client|id", "client|info", "client|setinfo");

  /** Saves the users to the server's aclfile if it has one, so a restart brings back what is there now. */
  private static void persistAcl(Jedis j) {
    try {
      j.aclSave();
    } catch (JedisDataException e) {
      String msg = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
      // no aclfile, or a managed server that has no ACL SAVE at all: nothing on disk can bring a user back
      if (!msg.contains("not configured to use an acl file") && !msg.contains("unknown subcommand")
          && !msg.contains("unknown command")) {
        throw new ProviderException(NAME, "cannot save the ACL users to the server's aclfile (ACL SAVE): " + e.getMessage()
            + "; until it can, a restart brings back dropped previews' users and old passwords", false, e);
      }
    }
  }

  private static volatile boolean warnedOpenDefault;

  private static void warnIfDefaultUserIsOpen(Map<String, AclUser> users) {
    AclUser d = users.get("default");
    if (d != null && d.rules().contains(" on ") && d.rules().contains(" nopass") && !warnedOpenDefault) {
      warnedOpenDefault = true;
      LOG.warn("redis: the server's default user is on without a password: any client, a preview's app included, can "
          + "AUTH as it and bypass every preview's ACL. Give it a password or turn it off (ACL SETUSER default off).");
    }
  }

  /** A user of ACL LIST: its name, the whole line, and its ownership mark if it has one of ours. */
  record AclUser(String name, String rules, String mark) {}

  static Map<String, AclUser> aclUsers(Jedis j) {
    Map<String, AclUser> users = new LinkedHashMap<>();
    for (String line : j.aclList()) {
      String[] tokens = line.split(" ");
      if (tokens.length < 2 || !tokens[0].equals("user")) {
        continue;
      }
      String mark = null;
      for (String t : tokens) {
        int at = t.indexOf(MARK_TAG);
        if (t.startsWith("~preview:") && at > 0) {
          try {
            mark = new String(Base64.getUrlDecoder().decode(t.substring(at + MARK_TAG.length())), StandardCharsets.UTF_8);
          } catch (IllegalArgumentException notOurs) {
            mark = null;
          }
        }
      }
      users.put(tokens[1], new AclUser(tokens[1], line + " ", mark));
    }
    return users;
  }

  private DatabaseConnection createLease(Jedis j, PreviewKey key, String mark, String source) {
    Object r = j.eval(LEASE_SCRIPT, List.of(LEASES), List.of(holder(key), Integer.toString(firstDb), Integer.toString(lastDb)));
    long idx = (Long) ((List<?>) r).get(0);
    if (idx < 0) {
      throw new ProviderException(NAME, "no free database index in " + firstDb + "-" + lastDb
          + "; drop finished previews or widen database.databases", true);
    }
    String field = Long.toString(idx);
    j.hset(LEASE_MARKS, field, mark);
    if (!"1".equals(j.hget(LEASE_READY, field))) {
      try (Jedis target = connect((int) idx)) {
        target.flushDB(FlushMode.SYNC); // leftovers of an earlier tenant or of a copy cut short
        if (source != null) {
          copy(j, target, source, "");
        }
      }
      j.hset(LEASE_READY, field, "1");
      LOG.info("redis: leased database {} to {} (baseline {})", idx, key, source == null ? "none" : source);
    }
    Map<String, String> env = new LinkedHashMap<>();
    env.put("REDIS_HOST", appHost);
    env.put("REDIS_PORT", Integer.toString(appPort));
    env.put("REDIS_DB", field);
    Map<String, Secret> secrets = new LinkedHashMap<>();
    String cred = password == null ? "" : (username == null ? "" : username) + ":" + password.reveal() + "@";
    secrets.put("REDIS_URL", Secret.of(scheme() + "://" + cred + appHost + ":" + appPort + "/" + field));
    if (password != null) {
      secrets.put("REDIS_PASSWORD", password);
    }
    return new DatabaseConnection("db" + field, scheme() + "://" + appHost + ":" + appPort + "/" + field, username, password, env, secrets);
  }

  /** Copies every key under {@code fromPrefix} (read on {@code from}) to {@code toPrefix + rest} on {@code to}. */
  private static void copy(Jedis from, Jedis to, String fromPrefix, String toPrefix) {
    byte[] cursor = ScanParams.SCAN_POINTER_START_BINARY;
    ScanParams params = new ScanParams().match(glob(fromPrefix) + "*").count(500);
    do {
      ScanResult<byte[]> page = from.scan(cursor, params);
      for (byte[] k : page.getResult()) {
        byte[] value = from.dump(k);
        if (value == null) {
          continue; // expired meanwhile
        }
        long ttl = from.pttl(k);
        byte[] rest = java.util.Arrays.copyOfRange(k, fromPrefix.getBytes(StandardCharsets.UTF_8).length, k.length);
        byte[] target = concat(toPrefix.getBytes(StandardCharsets.UTF_8), rest);
        to.restore(target, ttl > 0 ? ttl : 0, value, RestoreParams.restoreParams().replace());
      }
      cursor = page.getCursorAsBytes();
    } while (!java.util.Arrays.equals(cursor, ScanParams.SCAN_POINTER_START_BINARY));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** Deletes the keys under {@code prefix} in pages (SCAN + UNLINK), so the server never blocks. */
  private static long unlinkMatching(Jedis j, String prefix) {
    long n = 0;
    String cursor = ScanParams.SCAN_POINTER_START;
    ScanParams params = new ScanParams().match(glob(prefix) + "*").count(1000);
    do {
      ScanResult<String> page = j.scan(cursor, params);
      if (!page.getResult().isEmpty()) {
        n += j.unlink(page.getResult().toArray(String[]::new));
      }
      cursor = page.getCursor();
    } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
    return n;
  }

  /** Escapes glob metacharacters, so that a prefix matches only itself. */
  static String glob(String literal) {
    StringBuilder sb = new StringBuilder();
    for (char c : literal.toCharArray()) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\' || c == '^' || c == '-') {
        sb.append('\\');
      }
      sb.append(c);
    }
    return sb.toString();
  }

  @Override
  public void drop(PreviewKey key) {
    try (Jedis j = connect(adminDb)) {
      if (mode == Mode.ACL) {
        Map<String, String> registry = j.hgetAll(ACL_USERS);
        Map<String, AclUser> users = aclUsers(j);
        String user = resolveUser(registry, users, key);
        String mark = registry.get(user);
        AclUser u = users.get(user);
        if (mark == null && (u == null || u.mark() == null)) {
          if (u != null) {
            throw new ProviderException(NAME, "redis user " + user + " is not registered to preview " + key + "; not dropping it", false);
          }
          return;
        }
        requireOwner(mark, user, key);
        if (u != null) {
          requireAclOwner(u, mark != null, key);
        }
        j.aclDelUser(user); // first: it also disconnects the app, which then cannot add keys behind the scan
        persistAcl(j); // or a restart with an aclfile brings the user back, with its old password
        long n = unlinkMatching(j, prefixOfUser(user));
        j.hdel(ACL_READY, user);
        j.hdel(ACL_USERS, user);
        LOG.info("redis: dropped user {} and {} key(s) of {}", user, n, key);
      } else {
        for (Map.Entry<String, String> e : j.hgetAll(LEASES).entrySet()) {
          if (e.getValue().equals(holder(key))) {
            try (Jedis target = connect(Integer.parseInt(e.getKey()))) {
              target.flushDB(FlushMode.SYNC);
            }
            j.hdel(LEASE_READY, e.getKey());
            j.hdel(LEASE_MARKS, e.getKey());
            j.hdel(LEASES, e.getKey()); // last: frees the index
            LOG.info("redis: released database {} of {}", e.getKey(), key);
          }
        }
      }
    } catch (JedisException e) {
      throw failure("cannot drop the key space of " + key, e);
    }
  }

  @Override
  public List<PreviewKey> list() {
    TreeSet<PreviewKey> keys = new TreeSet<>();
    try (Jedis j = connect(adminDb)) {
      for (String mark : j.hgetAll(mode == Mode.ACL ? ACL_USERS : LEASE_MARKS).values()) {
        OwnerMark.owner(installation, mark).ifPresent(keys::add);
      }
      if (mode == Mode.ACL) {
        for (AclUser u : aclUsers(j).values()) {
          if (u.mark() != null) {
            OwnerMark.owner(installation, u.mark()).ifPresent(keys::add); // also a user whose registry entry is gone
          }
        }
      }
      if (mode == Mode.DATABASE) {
        for (String holder : j.hgetAll(LEASES).values()) {
          heldBy(holder).ifPresent(keys::add); // also a lease whose mark was never written
        }
      }
    } catch (JedisException e) {
      throw failure("cannot list key spaces", e);
    }
    return new ArrayList<>(keys);
  }

  private void requireOwner(String mark, String user, PreviewKey key) {
    if (mark == null) {
      return;
    }
    Optional<PreviewKey> owner = OwnerMark.owner(installation, mark);
    if (owner.isEmpty() || !owner.get().equals(key)) {
      throw new ProviderException(NAME, "redis user " + user + " is registered to "
          + OwnerMark.key(mark).map(k -> "preview " + k + " of installation "
              + OwnerMark.instance(mark).orElse("?")).orElse("something else")
          + ", not to " + key + " of installation " + installation.instance() + "; leaving it alone", false);
    }
  }

  private String scheme() {
    return tls ? "rediss" : "redis";
  }

  Jedis connect(int db) {
    DefaultJedisClientConfig.Builder c = DefaultJedisClientConfig.builder().autoNegotiateProtocol(false).database(db).timeoutMillis(10_000)
        .clientName("preview").ssl(tls);
    if (username != null) {
      c.user(username);
    }
    if (password != null) {
      c.password(password.reveal());
    }
    return new Jedis(new HostAndPort(host, port), c.build());
  }

  private ProviderException failure(String what, JedisException e) {
    String msg = String.valueOf(e.getMessage());
    String hint = msg.contains("NOPERM") ? " (the admin user needs the ACL command and every key: +@all ~*)"
        : msg.contains("WRONGPASS") || msg.contains("NOAUTH") ? " (check database.username/password)"
        : msg.contains("unknown command") && msg.toLowerCase(java.util.Locale.ROOT).contains("acl")
            ? " (this server has no ACLs: use database.mode: database)" : "";
    return new ProviderException(NAME, what + " on " + host + ":" + port + ": " + msg + hint,
        e instanceof JedisConnectionException, e);
  }

  @Override
  public String toString() {
    return "RedisDatabaseProvider{" + host + ":" + port + ", mode=" + mode.name().toLowerCase(java.util.Locale.ROOT) + "}";
  }

  /** Builds a provider. */
  public static final class Builder {
    private String url = "redis://127.0.0.1:6379";
    private String username;
    private Secret password;
    private Mode mode = Mode.ACL;
    private String baseline;
    private int firstDb = 1;
    private int lastDb = 15;
    private String appHost;
    private int appPort;
    private Installation installation = Installation.defaults();

    private Builder() {}

    /**
     * The installation this provider belongs to (default {@link Installation#defaults()}): its
     * instance is recorded in every registry mark and lease and is part of every ACL user and key
     * prefix, and {@link #list()} and {@link #drop} see only its key spaces.
     */
    public Builder installation(Installation installation) {
      this.installation = Objects.requireNonNull(installation, "installation");
      return this;
    }

    /** {@code redis://host:port[/db]} or {@code rediss://} (TLS); the db holds the registry (and, mode acl, the keys). */
    public Builder url(String url) {
      this.url = url;
      return this;
    }

    public Builder username(String username) {
      this.username = username;
      return this;
    }

    public Builder password(Secret password) {
      this.password = password;
      return this;
    }

    public Builder mode(Mode mode) {
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** A key prefix whose keys every preview starts with; null: empty. */
    public Builder baseline(String baseline) {
      this.baseline = baseline;
      return this;
    }

    /** Mode database: the range of indexes to lease (default 1-15). */
    public Builder databases(int first, int last) {
      this.firstDb = first;
      this.lastDb = last;
      return this;
    }

    /** Host and port the apps use (default: the URL's). */
    public Builder appAddress(String host, int port) {
      this.appHost = host;
      this.appPort = port;
      return this;
    }

    public RedisDatabaseProvider build() {
      List<String> problems = new ArrayList<>();
      URI uri = null;
      try {
        uri = URI.create(url);
        if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme()) || uri.getHost() == null) {
          problems.add("redis: url must look like redis://host:6379 or rediss://host:6380, got \"" + url + "\"");
          uri = null;
        } else if (uri.getUserInfo() != null) {
          problems.add("redis: url must not carry credentials; use username and password");
        }
        String path = uri == null || uri.getPath() == null ? "" : uri.getPath().replace("/", "");
        if (!path.isEmpty() && !path.matches("\\d{1,5}")) {
          problems.add("redis: url path must be a database index, got \"" + path + "\"");
        }
      } catch (IllegalArgumentException e) {
        problems.add("redis: url is not a URI: " + e.getMessage());
      }
      if (mode == Mode.DATABASE && (firstDb < 0 || lastDb < firstDb)) {
        problems.add("redis: databases must be a range like 1-15, got " + firstDb + "-" + lastDb);
      }
      String path = uri == null || uri.getPath() == null ? "" : uri.getPath().replace("/", "");
      int adminDb = path.matches("\\d{1,5}") ? Integer.parseInt(path) : 0;
      if (mode == Mode.DATABASE && adminDb >= firstDb && adminDb <= lastDb) {
        problems.add("redis: databases " + firstDb + "-" + lastDb + " must not include the url's database "
            + adminDb + " (it holds the registry); narrow databases or put the registry in another url database");
      }
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      return new RedisDatabaseProvider(this, uri);
    }
  }

  /** {@code database.provider: redis}; see the module README for the keys. */
  public static final class Factory implements DatabaseProvider.Factory {
    @Override
    public String name() {
      return NAME;
    }

    @Override
    public DatabaseProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      config.ignore("provider");
      String url = config.string("url", "redis://127.0.0.1:6379");
      Optional<String> user = config.string("username");
      Optional<Secret> pw = config.secret("password");
      String mode = config.choice("mode", "acl", "acl", "database");
      Optional<String> base = config.string("baseline");
      String range = config.string("databases", "1-15");
      int first = 1;
      int last = 15;
      if (!range.matches("\\d{1,5}-\\d{1,5}")) {
        config.problem("databases", "must be a range like 1-15, got \"" + range + "\"");
      } else {
        first = Integer.parseInt(range.substring(0, range.indexOf('-')));
        last = Integer.parseInt(range.substring(range.indexOf('-') + 1));
      }
      Optional<String> host = config.string("host");
      int port = config.integer("port", 0, 0, 65535);
      config.validate();
      return builder().url(url).username(user.orElse(null)).password(pw.orElse(null))
          .mode(mode.equals("database") ? Mode.DATABASE : Mode.ACL).baseline(base.orElse(null))
          .databases(first, last).appAddress(host.orElse(null), port)
          .installation(context.installation()).build();
    }
  }
}
