import Timebase

/// Identifies a scheduled timer so it can be cancelled.
public struct TimerID: Hashable, Sendable {
    public let rawValue: UInt64
}

/// Deadlines in a binary min-heap. Ties fire in the order they were
/// scheduled. Cancelling is lazy: a cancelled entry is skipped when it
/// reaches the top, so cancel is O(1) and nothing is searched.
public struct TimerQueue {
    private struct Entry {
        var deadline: Instant
        var id: TimerID
        func firesBefore(_ other: Entry) -> Bool {
            deadline != other.deadline ? deadline < other.deadline : id.rawValue < other.id.rawValue
        }
    }

    private var heap: [Entry] = []
    private var pending: Set<UInt64> = []
    private var nextID: UInt64 = 1

    public init() {}

    /// How many timers are scheduled and not cancelled.
    public var count: Int { pending.count }

    public mutating func schedule(at deadline: Instant) -> TimerID {
        let id = TimerID(rawValue: nextID)
        nextID += 1
        pending.insert(id.rawValue)
        heap.append(Entry(deadline: deadline, id: id))
        siftUp(heap.count - 1)
        return id
    }

    /// Cancels a timer; cancelling one that fired or was cancelled is a no-op.
    public mutating func cancel(_ id: TimerID) {
        pending.remove(id.rawValue)
        // Keep the heap from filling with dead entries when timers are
        // rescheduled far more often than they fire.
        if heap.count > 64 && heap.count > pending.count * 4 { compact() }
    }

    public func isScheduled(_ id: TimerID) -> Bool { pending.contains(id.rawValue) }

    /// The earliest live deadline.
    public mutating func nextDeadline() -> Instant? {
        dropCancelledTop()
        return heap.first?.deadline
    }

    /// Removes and returns the earliest timer due at or before `now`.
    public mutating func popDue(now: Instant) -> TimerID? {
        dropCancelledTop()
        guard let top = heap.first, top.deadline <= now else { return nil }
        removeTop()
        pending.remove(top.id.rawValue)
        return top.id
    }

    private mutating func dropCancelledTop() {
        while let top = heap.first, !pending.contains(top.id.rawValue) { removeTop() }
    }

    private mutating func removeTop() {
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
    }

    private mutating func compact() {
        heap.removeAll { !pending.contains($0.id.rawValue) }
        var index = heap.count / 2
        while index > 0 { index -= 1; siftDown(index) }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].firesBefore(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = parent * 2 + 1
            let right = left + 1
            var first = parent
            if left < heap.count && heap[left].firesBefore(heap[first]) { first = left }
            if right < heap.count && heap[right].firesBefore(heap[first]) { first = right }
            if first == parent { return }
            heap.swapAt(parent, first)
            parent = first
        }
    }
}
