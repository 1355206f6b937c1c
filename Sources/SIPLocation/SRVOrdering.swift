/// The order RFC 2782 says to try one SRV set in: ascending priority, and
/// within a priority a weighted random draw, so servers of equal priority
/// share the load in proportion to their weights.
enum SRVOrdering {
    /// Records of one set looked at; the rest of a hostile answer is ignored.
    /// Real sets hold a handful.
    static let maxRecords = 64

    /// `records` ordered for use, "." targets left out, at most `limit`.
    /// `random(n)` returns a number in 0..<n.
    static func ordered(_ records: [SRVRecord], limit: Int, random: (UInt32) -> UInt32) -> [SRVRecord] {
        let usable = records.prefix(maxRecords).enumerated().filter { !DNSName.normalized($0.element.target).isEmpty }
        let byPriority = usable.sorted { ($0.element.priority, $0.offset) < ($1.element.priority, $1.offset) }
        var result: [SRVRecord] = []
        var start = 0
        while start < byPriority.count && result.count < limit {
            var end = start
            while end < byPriority.count && byPriority[end].element.priority == byPriority[start].element.priority {
                end += 1
            }
            let group = byPriority[start..<end].map { $0.element }
            drawWeighted(group, into: &result, limit: limit, random: random)
            start = end
        }
        return result
    }

    /// The selection of RFC 2782 for records of one priority: weight-0
    /// records go first in the list, a number is drawn from 0 up to and
    /// including the sum of weights, and the first record whose running sum
    /// reaches it is next; repeated until none is left.
    private static func drawWeighted(_ group: [SRVRecord], into result: inout [SRVRecord], limit: Int,
                                     random: (UInt32) -> UInt32) {
        var remaining = group.filter { $0.weight == 0 } + group.filter { $0.weight != 0 }
        while !remaining.isEmpty && result.count < limit {
            // At most `maxRecords` weights of 16 bits: far below UInt32.max.
            let sum = remaining.reduce(UInt32(0)) { $0 + UInt32($1.weight) }
            let drawn = random(sum + 1) % (sum + 1)
            var running: UInt32 = 0
            var chosen = remaining.count - 1
            for (index, record) in remaining.enumerated() {
                running += UInt32(record.weight)
                if running >= drawn {
                    chosen = index
                    break
                }
            }
            result.append(remaining.remove(at: chosen))
        }
    }
}
