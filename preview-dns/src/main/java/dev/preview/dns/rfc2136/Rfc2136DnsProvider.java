package dev.preview.dns.rfc2136;

import dev.preview.dns.internal.Ownership;
import dev.preview.dns.internal.Zones;
import dev.preview.spi.DnsProvider;
import dev.preview.dns.internal.ConfigKeys;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TSIGRecord;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.Update;
import org.xbill.DNS.ZoneTransferException;
import org.xbill.DNS.ZoneTransferIn;

/**
 * A {@link DnsProvider} over RFC 2136 dynamic updates, signed with TSIG (RFC 8945): BIND, PowerDNS,
 * Knot, Windows DNS with a TSIG key.
 *
 * <p>Ownership: beside each hostname {@code h} it writes a TXT record {@code _preview.h} holding
 * {@code heritage=preview,preview.dev/key=<key>} (a separate name because a CNAME may not share its
 * name with any other record). Every write is one UPDATE message whose prerequisites (RFC 2136
 * section 2.4) make it atomic and safe against concurrent writers: an owned name is rewritten only
 * while its ownership TXT still reads exactly as expected, and a new name is claimed only while it
 * is unused (or, with {@code adopt}, while nobody else's ownership TXT is there).
 *
 * <p>{@link #list()} reads the zone with a TSIG-signed AXFR, so the server must allow transfers to
 * the key ({@code allow-transfer { key "name."; };}). It returns only the records whose mark names
 * this {@linkplain Builder#installation installation}; {@link #delete} and {@link #upsert} never touch
 * a name marked by another installation (or by an earlier version that wrote no instance).
 *
 * <p>Records get the TTL each {@link DnsRecord} carries (the installation's {@code dns.ttl}).
 *
 * <p>Thread-safe; every message is exchanged on the calling thread ({@link TcpExchanger} over kept
 * connections, or {@link UdpExchanger}), the AXFR of {@link #list()} by dnsjava.
 */
public final class Rfc2136DnsProvider implements DnsProvider {
  private static final Logger LOG = LoggerFactory.getLogger(Rfc2136DnsProvider.class);
  private static final int[] ADDRESS_TYPES = {Type.A, Type.AAAA, Type.CNAME};
  private static final String[] ALGORITHMS =
      {"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"};

  private final String server;
  private final int port;
  private final Name zone;
  private final String zoneText;
  private final TSIG tsig;
  private final String keyName;
  private final boolean tcp;
  private final Duration timeout;
  private final boolean adopt;
  private final String txtPrefix;
  private final Ownership ownership;
  private final AtomicLong messages = new AtomicLong();
  /** Names this provider wrote (and did not delete since), so their next upsert is one rewrite. */
  private final Set<String> written = ConcurrentHashMap.newKeySet();
  /** TCP exchanges on the caller's thread over kept connections (with UDP: for truncated answers). */
  private final TcpExchanger tcpExchanger;
  /** UDP exchanges on the caller's thread; null with {@code transport: tcp}. */
  private final UdpExchanger udpExchanger;
  /** Names per batched UPDATE of {@link #deleteAll}: 4 prerequisite + delete records each, well inside 64 KiB. */
  static final int MAX_BATCH = 200;

  private Rfc2136DnsProvider(Builder b, TSIG tsig) {
    this.server = b.server.trim();
    this.port = b.port;
    this.zoneText = Zones.normalize(b.zone);
    this.zone = name(zoneText);
    this.keyName = b.keyName;
    this.tsig = tsig;
    this.tcp = b.tcp;
    this.timeout = b.timeout;
    this.adopt = b.adopt;
    this.txtPrefix = b.txtPrefix;
    this.ownership = Ownership.of(b.installation.instance());
    InetSocketAddress address = new InetSocketAddress(server, port);
    this.tcpExchanger = new TcpExchanger(address, timeout, tsig);
    this.udpExchanger = tcp ? null : new UdpExchanger(address, timeout, tsig);
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return "rfc2136";
  }

  /** TCP connections opened so far for queries and updates (not the AXFRs of {@link #list()}), for measurements. */
  public long tcpConnectionsOpened() {
    return tcpExchanger.opened();
  }

  @Override
  public void close() {
    tcpExchanger.close();
  }

  /** DNS messages sent so far (queries, updates, transfers), for measurements. */
  public long messagesSent() {
    return messages.get();
  }

  /**
   * One UPDATE in the usual cases: a name this provider wrote before (in this process) is rewritten
   * under the guard of its mark; any other name is first claimed as a new one. Only when that guess
   * is wrong (a restart, a name taken meanwhile) does a second message follow.
   */
  @Override
  public void upsert(DnsRecord record) {
    Name host = hostName(record.hostname());
    Name ownerName = name(Zones.ownerName(txtPrefix, record.hostname()));
    Record mark = txt(ownerName, ownership.mark(record.owner()));
    Record target = target(host, record, record.ttlSeconds());

    if (written.contains(record.hostname())) {
      int rcode = rewriteOwned(record, host, mark, target);
      if (rcode == Rcode.NOERROR) {
        return;
      }
      written.remove(record.hostname());
    }
    int rcode = claim(record, ownerName, host, mark, target);
    if (rcode == Rcode.NOERROR) {
      written.add(record.hostname());
      return;
    }
    if (rcode == Rcode.YXRRSET) {
      // a mark is there: ours (written before a restart), ours in another form, or someone else's
      if (rewriteOwned(record, host, mark, target) != Rcode.NOERROR) {
        retakeOwnMark(record, ownerName, host, mark, target);
      }
      written.add(record.hostname());
      return;
    }
    if (rcode == Rcode.YXDOMAIN) {
      throw Ownership.foreignRecords(name(), record.hostname(), describe(host));
    }
    throw failure("create " + record.hostname(), rcode, null);
  }

  /** Steady state: we own the name, so rewrite it while our mark still reads exactly so; the rcode (NXRRSET: not so). */
  private int rewriteOwned(DnsRecord record, Name host, Record mark, Record target) {
    Update owned = new Update(zone);
    owned.present(prerequisite(mark));
    replaceTargets(owned, host, target);
    owned.add(mark); // keeps the mark's TTL in step; adding an identical record is a no-op
    int rcode = send(owned, "update " + record.hostname());
    if (rcode != Rcode.NOERROR && rcode != Rcode.NXRRSET) {
      throw failure("update " + record.hostname(), rcode, null);
    }
    return rcode;
  }

  /** First time: claim the name while it is free (or, with adopt, while no one else marked it); the rcode. */
  private int claim(DnsRecord record, Name ownerName, Name host, Record mark, Record target) {
    Update claim = new Update(zone);
    claim.absent(ownerName, Type.TXT);
    if (!adopt) {
      claim.absent(host);
    }
    replaceTargets(claim, host, target);
    claim.add(mark);
    return send(claim, "create " + record.hostname());
  }

  /** The name carries an ownership TXT that did not match ours byte for byte: whose is it? */
  private void retakeOwnMark(DnsRecord record, Name ownerName, Name host, Record mark, Record target) {
    List<Record> marks = query(ownerName, Type.TXT);
    Optional<Ownership.Owner> owner = marks.size() == 1 ? Ownership.parse(text(marks.get(0))) : Optional.empty();
    if (owner.isEmpty()) {
      throw new ProviderException(name(), record.hostname() + " is marked by a TXT record at " + ownerName
          + " that preview did not write (" + marks.size() + " record(s)). Remove it or use another hostname.", false);
    }
    if (!ownership.isMine(owner.get())) {
      throw ownership.ownedByOtherInstallation(name(), record.hostname(), owner.get(), "the TXT record " + ownerName);
    }
    if (!owner.get().key().equals(record.owner())) {
      throw Ownership.ownedByOtherPreview(name(), record.hostname(), owner.get(), record.owner());
    }
    // Ours, written differently (e.g. by an older version): rewrite it under the same guard.
    Update u = new Update(zone);
    u.present(prerequisite(marks.get(0)));
    replaceTargets(u, host, target);
    u.delete(ownerName, Type.TXT);
    u.add(mark);
    int rcode = send(u, "update " + record.hostname());
    if (rcode != Rcode.NOERROR) {
      throw failure("update " + record.hostname() + " (its ownership changed meanwhile)", rcode, null);
    }
  }

  private static void replaceTargets(Update u, Name host, Record target) {
    for (int type : ADDRESS_TYPES) {
      u.delete(host, type);
    }
    u.add(target);
  }

  /**
   * One UPDATE: the name's records and mark are removed under the prerequisite that the mark is
   * exactly {@code owner}'s, so another preview's name is never touched. A mark in another form
   * (an older version wrote it) costs a query and a second UPDATE.
   */
  @Override
  public void delete(String hostname, PreviewKey owner) {
    String h = Zones.normalize(hostname);
    Name host = hostName(h);
    Name ownerName = name(Zones.ownerName(txtPrefix, h));
    Record mark = txt(ownerName, ownership.mark(owner));
    int rcode = send(deletion(host, ownerName, mark), "delete " + h);
    written.remove(h);
    if (rcode == Rcode.NOERROR) {
      return;
    }
    if (rcode != Rcode.NXRRSET) {
      throw failure("delete " + h, rcode, null);
    }
    List<Record> marks = query(ownerName, Type.TXT);
    Optional<Ownership.Owner> found = marks.size() == 1 ? Ownership.parse(text(marks.get(0))) : Optional.empty();
    if (found.isEmpty()) {
      if (!marks.isEmpty()) {
        LOG.warn("{}: not deleting {}: its ownership TXT {} is not preview's", name(), h, ownerName);
      }
      return; // nothing owned there
    }
    if (!ownership.isMine(found.get()) || !found.get().key().equals(owner)) {
      LOG.warn("{}: not deleting {} for {}: it belongs to {} of installation {}", name(), h, owner, found.get().key(),
          found.get().instance());
      return;
    }
    rcode = send(deletion(host, ownerName, marks.get(0)), "delete " + h);
    if (rcode != Rcode.NOERROR && rcode != Rcode.NXRRSET) {
      throw failure("delete " + h, rcode, null);
    }
  }

  /**
   * Many deletions in as few UPDATE messages as fit (at most {@value #MAX_BATCH} names each): an UPDATE
   * is all or nothing, so a batch whose prerequisites do not all hold (one name changed owner since
   * it was listed) is done again name by name.
   */
  @Override
  public void deleteAll(Collection<DnsRecord> records) {
    Map<String, PreviewKey> byHost = new LinkedHashMap<>();
    for (DnsRecord r : records) {
      byHost.putIfAbsent(r.hostname(), r.owner());
    }
    List<Map.Entry<String, PreviewKey>> all = new ArrayList<>(byHost.entrySet());
    for (int from = 0; from < all.size(); from += MAX_BATCH) {
      List<Map.Entry<String, PreviewKey>> batch = all.subList(from, Math.min(all.size(), from + MAX_BATCH));
      if (batch.size() == 1) {
        delete(batch.get(0).getKey(), batch.get(0).getValue());
        continue;
      }
      Update u = new Update(zone);
      for (Map.Entry<String, PreviewKey> e : batch) {
        String h = Zones.normalize(e.getKey());
        Name ownerName = name(Zones.ownerName(txtPrefix, h));
        addDeletion(u, hostName(h), ownerName, txt(ownerName, ownership.mark(e.getValue())));
      }
      int rcode = send(u, "delete " + batch.size() + " names");
      if (rcode == Rcode.NOERROR) {
        batch.forEach(e -> written.remove(Zones.normalize(e.getKey())));
        continue;
      }
      if (rcode != Rcode.NXRRSET) {
        throw failure("delete " + batch.size() + " names", rcode, null);
      }
      for (Map.Entry<String, PreviewKey> e : batch) {
        delete(e.getKey(), e.getValue());
      }
    }
  }

  private Update deletion(Name host, Name ownerName, Record mark) {
    Update u = new Update(zone);
    addDeletion(u, host, ownerName, mark);
    return u;
  }

  private static void addDeletion(Update u, Name host, Name ownerName, Record mark) {
    u.present(prerequisite(mark));
    for (int type : ADDRESS_TYPES) {
      u.delete(host, type);
    }
    u.delete(ownerName, Type.TXT);
  }

  @Override
  public void delete(String hostname) {
    String h = Zones.normalize(hostname);
    written.remove(h);
    Name host = hostName(h);
    Name ownerName = name(Zones.ownerName(txtPrefix, h));
    List<Record> marks = query(ownerName, Type.TXT);
    if (marks.isEmpty()) {
      LOG.debug("{}: nothing owned at {}", name(), h);
      return;
    }
    Optional<Ownership.Owner> owner = marks.size() == 1 ? Ownership.parse(text(marks.get(0))) : Optional.empty();
    if (owner.isEmpty() || !ownership.isMine(owner.get())) {
      LOG.warn("{}: not deleting {}: its ownership TXT {} is not this installation's", name(), h, ownerName);
      return;
    }
    Update u = new Update(zone);
    u.present(prerequisite(marks.get(0)));
    for (int type : ADDRESS_TYPES) {
      u.delete(host, type);
    }
    u.delete(ownerName, Type.TXT);
    int rcode = send(u, "delete " + h);
    if (rcode == Rcode.NXRRSET) {
      return; // someone deleted or rewrote it meanwhile: nothing of ours is left to remove
    }
    if (rcode != Rcode.NOERROR) {
      throw failure("delete " + h, rcode, null);
    }
  }

  @Override
  public List<DnsRecord> list() {
    List<Record> all = transfer();
    Map<Name, List<Record>> byName = new LinkedHashMap<>();
    for (Record r : all) {
      byName.computeIfAbsent(r.getName(), k -> new ArrayList<>()).add(r);
    }
    List<DnsRecord> out = new ArrayList<>();
    for (Record r : all) {
      if (r.getType() != Type.TXT) {
        continue;
      }
      String hostname = Zones.hostnameOfOwnerName(txtPrefix, Zones.normalize(r.getName().toString()));
      Optional<PreviewKey> key = ownership.ownerIfMine(text(r));
      if (hostname == null || key.isEmpty()) {
        continue;
      }
      for (Record t : byName.getOrDefault(hostName(hostname), List.of())) {
        toDnsRecord(hostname, t, key.get()).ifPresent(out::add);
      }
    }
    return List.copyOf(out);
  }

  private static Optional<DnsRecord> toDnsRecord(String hostname, Record r, PreviewKey key) {
    DnsRecord.Type type = switch (r.getType()) {
      case Type.A -> DnsRecord.Type.A;
      case Type.AAAA -> DnsRecord.Type.AAAA;
      case Type.CNAME -> DnsRecord.Type.CNAME;
      default -> null;
    };
    if (type == null) {
      return Optional.empty();
    }
    String value = type == DnsRecord.Type.AAAA ? Zones.ipv6(r.rdataToString()) : Zones.normalize(r.rdataToString());
    return Optional.of(new DnsRecord(hostname, type, value, (int) r.getTTL(), key));
  }

  private List<Record> transfer() {
    ZoneTransferIn xfr = ZoneTransferIn.newAXFR(zone, new InetSocketAddress(server, port), tsig);
    xfr.setTimeout(timeout);
    messages.incrementAndGet();
    try {
      xfr.run();
      return xfr.getAXFR();
    } catch (ZoneTransferException e) {
      throw new ProviderException(name(), "zone transfer (AXFR) of " + zoneText + " from " + server + ":" + port
          + " failed: " + e.getMessage() + ". list() reads the zone by AXFR: allow it for the key"
          + (keyName == null ? "" : " (allow-transfer { key \"" + keyName + "\"; };)") + ".", false, e);
    } catch (IOException e) {
      throw unreachable("zone transfer of " + zoneText, e);
    }
  }

  private List<Record> query(Name n, int type) {
    Message q = Message.newQuery(Record.newRecord(n, type, DClass.IN));
    Message response = exchange(q, "query " + n + " " + Type.string(type));
    int rcode = response.getRcode();
    if (rcode == Rcode.NXDOMAIN) {
      return List.of();
    }
    if (rcode != Rcode.NOERROR) {
      throw failure("query " + n + " " + Type.string(type), rcode, response);
    }
    List<Record> out = new ArrayList<>();
    for (Record r : response.getSection(Section.ANSWER)) {
      if (r.getType() == type && r.getName().equals(n)) {
        out.add(r);
      }
    }
    return out;
  }

  private String describe(Name host) {
    List<String> found = new ArrayList<>();
    for (int type : new int[] {Type.A, Type.AAAA, Type.CNAME, Type.TXT, Type.MX}) {
      for (Record r : query(host, type)) {
        found.add(Type.string(type) + " " + r.rdataToString());
      }
    }
    return found.isEmpty() ? "records of other types" : String.join(", ", found);
  }

  private int send(Update u, String what) {
    Message response = exchange(u, what);
    return response.getRcode();
  }

  private Message exchange(Message m, String what) {
    messages.incrementAndGet();
    Message response;
    try {
      // on this thread: no hand-over to a selector thread and back per message (see TcpExchanger)
      response = udpExchanger == null ? tcpExchanger.send(m) : udpExchanger.send(m);
      if (udpExchanger != null && response.getHeader().getFlag(Flags.TC)) {
        response = tcpExchanger.send(m); // truncated over UDP: the whole answer over TCP
      }
    } catch (IOException e) {
      throw unreachable(what, e);
    }
    int rcode = response.getRcode();
    if (rcode == Rcode.NOTAUTH || rcode == Rcode.REFUSED) {
      throw failure(what, rcode, response);
    }
    return response;
  }

  private ProviderException failure(String what, int rcode, Message response) {
    String code = Rcode.string(rcode);
    if (rcode == Rcode.NOTAUTH) {
      TSIGRecord t = response == null ? null : response.getTSIG();
      String tsigError = t != null && t.getError() != Rcode.NOERROR ? Rcode.TSIGstring(t.getError()) : null;
      if (tsig != null) {
        return new ProviderException(name(), "the DNS server " + server + ":" + port + " rejected the TSIG key \""
            + keyName + "\" (" + code + (tsigError == null ? "" : "/" + tsigError) + ") on " + what
            + ": check that tsigKeyName, tsigAlgorithm and tsigSecret (or the key in tsigKeyFile) match a key the server knows"
            + " and that its clock is within 5 minutes of ours.", false);
      }
      return new ProviderException(name(), "the DNS server " + server + ":" + port + " is not authoritative for "
          + zoneText + " or requires a TSIG key (" + code + ") on " + what + ": set tsigKeyFile, or tsigKeyName and tsigSecret.", false);
    }
    if (rcode == Rcode.REFUSED) {
      return new ProviderException(name(), "the DNS server " + server + ":" + port + " refused " + what + " (REFUSED): "
          + "grant the key updates of zone " + zoneText + " (allow-update { key \"" + keyName + "\"; }; or an"
          + " update-policy) and check that the zone is served there as primary.", false);
    }
    boolean retryable = rcode == Rcode.SERVFAIL;
    return new ProviderException(name(), what + " failed with " + code + " from " + server + ":" + port, retryable);
  }

  private ProviderException unreachable(String what, IOException e) {
    return new ProviderException(name(), what + ": no answer from DNS server " + server + ":" + port + " within "
        + timeout.toMillis() + " ms (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", true, e);
  }

  private Name hostName(String hostname) {
    return name(Zones.requireInside(Zones.normalize(hostname), zoneText));
  }

  private static Record target(Name host, DnsRecord r, int ttl) {
    try {
      return Record.fromString(host, Type.value(r.type().name()), DClass.IN, ttl, Zones.absoluteValue(r), Name.root);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a valid " + r.type() + " value: \"" + r.value() + "\"", e);
    }
  }

  /** RFC 2136 section 2.4.2: a value-dependent prerequisite carries TTL 0, or the server answers FORMERR. */
  private static Record prerequisite(Record r) {
    return Record.newRecord(r.getName(), r.getType(), DClass.IN, 0, r.rdataToWireCanonical());
  }

  private static Record txt(Name n, String text) {
    return new TXTRecord(n, DClass.IN, 60, Ownership.txtStrings(text));
  }

  private static String text(Record r) {
    return r instanceof TXTRecord t ? String.join("", t.getStrings()) : "";
  }

  private static Name name(String text) {
    try {
      return Name.fromString(Zones.normalize(text), Name.root);
    } catch (TextParseException e) {
      throw new IllegalArgumentException("not a valid DNS name: \"" + text + "\"", e);
    }
  }

  @Override
  public String toString() {
    return "Rfc2136DnsProvider{" + server + ":" + port + ", zone=" + zoneText + ", key=" + keyName + "}";
  }

  /** Builds an {@link Rfc2136DnsProvider}; {@link #build()} reports every invalid value at once. */
  public static final class Builder {
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?");

    private String server;
    private int port = 53;
    private String zone;
    private String keyName;
    private String algorithm = "hmac-sha256";
    private Secret secret;
    private boolean tcp = true;
    private Duration timeout = Duration.ofSeconds(10);
    private boolean adopt;
    private String txtPrefix = "_preview";
    private Installation installation = Installation.defaults();

    private Builder() {}

    /** Host name or address of the primary server (required). */
    public Builder server(String server) {
      this.server = Objects.requireNonNull(server, "server");
      return this;
    }

    /** 1-65535, default 53. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** The zone records are made in, e.g. {@code preview.example.com} (required). */
    public Builder zone(String zone) {
      this.zone = Objects.requireNonNull(zone, "zone");
      return this;
    }

    /**
     * The TSIG key: its name (e.g. {@code preview-key.}), algorithm ({@code hmac-sha256}, or another
     * {@code hmac-sha*} or {@code hmac-md5}) and
     * base64 secret. Without one, messages are unsigned (only for servers that allow that).
     */
    public Builder tsig(String keyName, String algorithm, Secret secret) {
      this.keyName = Objects.requireNonNull(keyName, "keyName");
      this.algorithm = Objects.requireNonNull(algorithm, "algorithm");
      this.secret = Objects.requireNonNull(secret, "secret");
      return this;
    }

    /** TCP (default) or UDP for updates and queries. */
    public Builder tcp(boolean tcp) {
      this.tcp = tcp;
      return this;
    }

    /** How long to wait for each answer; positive, default 10 s. */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Take over records at a hostname that nobody marked as owned (default false: that is an error). */
    public Builder adopt(boolean adopt) {
      this.adopt = adopt;
      return this;
    }

    /** First label of the ownership TXT name (default {@code _preview}). */
    public Builder txtPrefix(String txtPrefix) {
      this.txtPrefix = Objects.requireNonNull(txtPrefix, "txtPrefix");
      return this;
    }

    /**
     * The installation the records belong to (its instance is written in every mark; only its own
     * records are listed and deleted). Default {@link Installation#defaults()}.
     */
    public Builder installation(Installation installation) {
      this.installation = Objects.requireNonNull(installation, "installation");
      return this;
    }

    /** @throws ConfigurationException naming every invalid value and how to fix it */
    public Rfc2136DnsProvider build() {
      List<String> problems = new ArrayList<>();
      if (server == null || server.isBlank()) {
        problems.add("server: is required (host name or address of the zone's primary server)");
      }
      if (port < 1 || port > 65535) {
        problems.add("port: must be 1-65535, got " + port);
      }
      if (zone == null || zone.isBlank()) {
        problems.add("zone: is required (the zone records are made in, e.g. preview.example.com)");
      } else if (!validName(zone)) {
        problems.add("zone: not a valid DNS name: \"" + zone + "\"");
      }
      if (timeout.isZero() || timeout.isNegative()) {
        problems.add("timeout: must be positive, got " + timeout);
      }
      if (!LABEL.matcher(txtPrefix).matches()) {
        problems.add("txtPrefix: must be one DNS label (letters, digits, '_' or '-', at most 63), got \"" + txtPrefix + "\"");
      }
      TSIG tsig = null;
      if (keyName != null) {
        if (!Arrays.asList(ALGORITHMS).contains(algorithm)) {
          problems.add("tsigAlgorithm: must be one of " + String.join(", ", ALGORITHMS) + ", got \"" + algorithm + "\"");
        }
        if (!validName(keyName)) {
          problems.add("tsigKeyName: not a valid DNS name: \"" + keyName + "\"");
        }
        if (problems.isEmpty()) {
          try {
            // decoded here: dnsjava's own decoding gives null (and then a NullPointerException) for bad base64
            byte[] key = java.util.Base64.getDecoder().decode(secret.reveal().replaceAll("\\s", ""));
            if (key.length == 0) {
              throw new IllegalArgumentException("empty");
            }
            tsig = new TSIG(name(algorithm), name(keyName), key);
          } catch (IllegalArgumentException e) {
            // never the secret itself in a message
            problems.add("tsigSecret: is not valid base64 (write the secret that tsig-keygen prints)");
          }
        }
      }
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      return new Rfc2136DnsProvider(this, tsig);
    }

    private static boolean validName(String text) {
      try {
        Name.fromString(Zones.normalize(text), Name.root);
        return !Zones.normalize(text).isEmpty();
      } catch (TextParseException e) {
        return false;
      }
    }
  }

  /**
   * Creates {@link Rfc2136DnsProvider}s from the {@code dns:} section of {@code preview.yaml}
   * ({@code provider: rfc2136}). The TSIG key comes either from {@code tsigKeyFile} (a BIND key file as
   * written by {@code tsig-keygen}) or from {@code tsigKeyName}, {@code tsigAlgorithm} and
   * {@code tsigSecret}. {@code target} and {@code ttl} belong to the installation and are not read here.
   */
  public static final class Factory implements DnsProvider.Factory {
    private static final Pattern KEY_FILE = Pattern.compile(
        "key\\s+\"?([^\"\\s{]+)\"?\\s*\\{[^}]*?algorithm\\s+\"?([A-Za-z0-9-]+)\"?\\s*;[^}]*?secret\\s+\"([^\"]+)\"\\s*;",
        Pattern.DOTALL);

    @Override
    public String name() {
      return "rfc2136";
    }

    @Override
    public DnsProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      config.ignore("provider");
      ConfigKeys.instanceIsTopLevel(config);
      ConfigKeys.renamed(config, "txtPrefix", "tsigKeyFile", "tsigKeyName", "tsigAlgorithm", "tsigSecret");
      String server = config.requiredString("server");
      String zone = config.requiredString("zone");
      Builder b = builder()
          .port(config.integer("port", 53, 1, 65535))
          .tcp("tcp".equals(config.choice("transport", "tcp", "tcp", "udp")))
          .timeout(config.duration("timeout", Duration.ofSeconds(10)))
          .adopt(config.bool("adopt", false))
          .txtPrefix(config.string("txtPrefix", "_preview"))
          .installation(context.installation());
      Optional<String> keyFile = config.string("tsigKeyFile");
      Optional<String> keyName = config.string("tsigKeyName");
      String algorithm = config.choice("tsigAlgorithm", "hmac-sha256", ALGORITHMS);
      Optional<Secret> secret = config.secret("tsigSecret");
      if (keyFile.isPresent()) {
        if (keyName.isPresent() || secret.isPresent()) {
          config.problem("tsigKeyFile", "set either tsigKeyFile or tsigKeyName + tsigSecret, not both");
        } else {
          readKeyFile(config, keyFile.get(), b);
        }
      } else if (keyName.isPresent() != secret.isPresent()) {
        config.problem(keyName.isPresent() ? "tsigSecret" : "tsigKeyName",
            "is required when " + (keyName.isPresent() ? "tsigKeyName" : "tsigSecret") + " is set");
      } else if (keyName.isPresent()) {
        b.tsig(keyName.get(), algorithm, secret.get());
      }
      config.validate();
      return config.build(() -> b.server(server).zone(zone).build());
    }

    private static void readKeyFile(ProviderConfig config, String file, Builder b) {
      String text;
      try {
        text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
      } catch (IOException e) {
        config.problem("tsigKeyFile", "cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
        return;
      }
      Matcher m = KEY_FILE.matcher(text);
      if (!m.find()) {
        config.problem("tsigKeyFile", file + " holds no key { algorithm ...; secret \"...\"; } block"
            + " (write one with: tsig-keygen -a hmac-sha256 preview-key.)");
        return;
      }
      b.tsig(m.group(1), m.group(2).toLowerCase(Locale.ROOT), Secret.of(m.group(3)));
    }
  }
}
