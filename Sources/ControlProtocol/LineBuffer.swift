/// Collects bytes from a stream and hands out complete lines. A line longer
/// than `limit` is an overflow: the caller answers with an error and drops
/// the connection, so a client can never make us buffer without bound.
public struct LineBuffer {
    public let limit: Int
    private var storage: [UInt8] = []
    private var start = 0

    public init(limit: Int) {
        self.limit = limit
        storage.reserveCapacity(256)
    }

    public enum Next: Equatable {
        case line(ArraySlice<UInt8>)
        case needMore
        case overflow
    }

    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        compactIfWorthIt()
        storage.append(contentsOf: bytes)
    }

    /// Bytes buffered that are not yet part of a complete line.
    public var pendingCount: Int { storage.count - start }

    /// The next complete line (without "\n"), if any.
    public mutating func nextLine() -> Next {
        if let newline = storage[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if newline - start > limit { return .overflow }
            let line = storage[start..<newline]
            start = newline + 1
            return .line(line)
        }
        return pendingCount > limit ? .overflow : .needMore
    }

    private mutating func compactIfWorthIt() {
        if start > 0 && start == storage.count {
            storage.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 4096 {
            storage.removeFirst(start)
            start = 0
        }
    }
}
