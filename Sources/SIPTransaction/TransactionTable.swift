/// The live transactions of a UA, looked up by `TransactionKey`, with a
/// fixed number of places for client and for server transactions.
///
/// Bounds: server transactions are created by whoever sends us requests, so
/// a flood must not grow memory nor crowd out our own REGISTER and INVITE
/// transactions. Each side has its own capacity; when a side is full,
/// `insert` refuses (`.full`), or, given a predicate, evicts the oldest
/// entry of that side the predicate accepts (typically `isLingering`: a
/// transaction that only waits to absorb retransmissions). A refused
/// request can be answered statelessly (503) or dropped.
///
/// Entries live in an array in insertion order and lookups scan it: at the
/// sizes an ATA needs (tens of entries) that is cheap, allocation-free and
/// lets RFC 2543 ACKs match by their own rule (`TransactionKey.matches`).
public struct TransactionTable<Value> {
    public enum InsertResult: Equatable, Sendable {
        /// Stored in a free place.
        case inserted
        /// Stored after evicting the transaction with this key: drop its
        /// messages as if it had terminated.
        case evicted(TransactionKey)
        /// A transaction with this very key is already stored; it is kept.
        case duplicate
        /// That side of the table is full; nothing was stored.
        case full
    }

    struct Entry {
        var key: TransactionKey
        var value: Value
        var responseToTag: String?
    }

    public let clientCapacity: Int
    public let serverCapacity: Int
    public private(set) var clientCount = 0
    public private(set) var serverCount = 0
    private var entries: [Entry] = []

    /// Negative capacities count as zero.
    public init(clientCapacity: Int = 32, serverCapacity: Int = 64) {
        self.clientCapacity = clientCapacity < 0 ? 0 : clientCapacity
        self.serverCapacity = serverCapacity < 0 ? 0 : serverCapacity
        entries.reserveCapacity(self.clientCapacity + self.serverCapacity)
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// The stored keys, oldest first.
    public var keys: [TransactionKey] { entries.map { $0.key } }

    /// Stores `value` under `key` if that side has room.
    public mutating func insert(_ value: Value, for key: TransactionKey) -> InsertResult {
        insert(value, for: key, evictingOldestWhere: { _ in false })
    }

    /// Stores `value` under `key`; when that side is full, evicts its oldest
    /// entry for which `isEvictable` is true, or refuses if there is none.
    public mutating func insert(_ value: Value, for key: TransactionKey,
                                evictingOldestWhere isEvictable: (Value) -> Bool) -> InsertResult {
        if entries.contains(where: { $0.key == key }) { return .duplicate }
        let side = key.side
        var result = InsertResult.inserted
        if count(of: side) >= capacity(of: side) {
            guard let victim = entries.firstIndex(where: { $0.key.side == side && isEvictable($0.value) }) else {
                return .full
            }
            result = .evicted(entries[victim].key)
            removeEntry(at: victim)
        }
        entries.append(Entry(key: key, value: value, responseToTag: nil))
        adjustCount(of: side, by: 1)
        return result
    }

    /// The value stored under exactly this key.
    public subscript(key: TransactionKey) -> Value? {
        guard let index = entries.firstIndex(where: { $0.key == key }) else { return nil }
        return entries[index].value
    }

    /// The stored key a received message's key matches (for an RFC 2543 ACK,
    /// the INVITE's key), or `nil` if the message starts no known transaction.
    public func matchingKey(for incoming: TransactionKey) -> TransactionKey? {
        guard let index = indexMatching(incoming) else { return nil }
        return entries[index].key
    }

    /// The value a received message's key matches.
    public func value(matching incoming: TransactionKey) -> Value? {
        guard let index = indexMatching(incoming) else { return nil }
        return entries[index].value
    }

    /// Runs `body` on the value a received message's key matches, typically
    /// to feed it the message: `table.update(matching: key) { $0.handle(.ack, at: now) }`.
    /// Returns `nil` when nothing matches.
    public mutating func update<Result>(matching incoming: TransactionKey,
                                        _ body: (inout Value) -> Result) -> Result? {
        guard let index = indexMatching(incoming) else { return nil }
        return body(&entries[index].value)
    }

    /// Runs `body` on every entry, oldest first (to advance every
    /// transaction's timers, or to find the earliest deadline).
    public mutating func updateAll(_ body: (TransactionKey, inout Value) -> Void) {
        for index in entries.indices {
            body(entries[index].key, &entries[index].value)
        }
    }

    /// Reads every entry, oldest first (to find the earliest deadline).
    public func forEachValue(_ body: (Value) -> Void) {
        for entry in entries { body(entry.value) }
    }

    /// Records the To tag of the response an RFC 2543 INVITE server
    /// transaction sent, so the ACK for it matches.
    public mutating func setResponseToTag(_ tag: String?, for key: TransactionKey) {
        guard let index = entries.firstIndex(where: { $0.key == key }) else { return }
        entries[index].responseToTag = tag
    }

    /// Removes the value stored under exactly this key.
    @discardableResult
    public mutating func remove(_ key: TransactionKey) -> Value? {
        guard let index = entries.firstIndex(where: { $0.key == key }) else { return nil }
        let value = entries[index].value
        removeEntry(at: index)
        return value
    }

    /// Removes every entry whose value satisfies `shouldRemove` (for example
    /// the terminated ones) and returns their keys.
    @discardableResult
    public mutating func removeAll(where shouldRemove: (Value) -> Bool) -> [TransactionKey] {
        var removed: [TransactionKey] = []
        var kept: [Entry] = []
        kept.reserveCapacity(entries.count)
        for entry in entries {
            if shouldRemove(entry.value) {
                removed.append(entry.key)
                adjustCount(of: entry.key.side, by: -1)
            } else {
                kept.append(entry)
            }
        }
        entries = kept
        return removed
    }

    private func indexMatching(_ incoming: TransactionKey) -> Int? {
        entries.firstIndex(where: { $0.key.matches(incoming, responseToTag: $0.responseToTag) })
    }

    private mutating func removeEntry(at index: Int) {
        adjustCount(of: entries[index].key.side, by: -1)
        entries.remove(at: index)
    }

    private func count(of side: TransactionKey.Side) -> Int {
        side == .client ? clientCount : serverCount
    }

    private func capacity(of side: TransactionKey.Side) -> Int {
        side == .client ? clientCapacity : serverCapacity
    }

    private mutating func adjustCount(of side: TransactionKey.Side, by delta: Int) {
        if side == .client { clientCount += delta } else { serverCount += delta }
    }
}

extension TransactionTable: Sendable where Value: Sendable {}
