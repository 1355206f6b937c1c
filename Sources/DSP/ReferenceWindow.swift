/// The far-end reference an adaptive echo filter sees: the last `length`
/// samples, newest first, always contiguous in memory so a filter can run
/// over them with whole SIMD vectors, and their energy kept up to date.
///
/// Each sample is written twice, `length` apart, into a buffer of twice the
/// length; the window then starts wherever the newest sample went and never
/// wraps.
public final class ReferenceWindow {
    /// Samples in the window (a multiple of 8, for SIMD8).
    public let length: Int
    private let storage: UnsafeMutablePointer<Float>
    private var start: Int
    /// Sum of squares over the window. Kept in Double: a running sum of
    /// squares in Float drifts as samples come and go.
    public private(set) var energy: Double = 0
    private var samplesSinceRecount = 0

    public init(length: Int) {
        precondition(length > 0 && length % 8 == 0, "ReferenceWindow: length must be a positive multiple of 8")
        self.length = length
        storage = .allocate(capacity: 2 * length)
        storage.initialize(repeating: 0, count: 2 * length)
        start = 0
    }

    deinit { storage.deallocate() }

    public func reset() {
        storage.update(repeating: 0, count: 2 * length)
        start = 0
        energy = 0
    }

    /// Makes `sample` the newest; the oldest leaves.
    @inline(__always)
    public func push(_ sample: Float) {
        start = start == 0 ? length - 1 : start - 1
        let leaving = storage[start]
        storage[start] = sample
        storage[start + length] = sample
        energy += Double(sample) * Double(sample) - Double(leaving) * Double(leaving)
        samplesSinceRecount += 1
        if samplesSinceRecount == length {
            samplesSinceRecount = 0
            recount()
        }
    }

    /// The window, newest sample first: `samples[k]` is the sample pushed
    /// `k` pushes ago.
    @inline(__always)
    public var samples: UnsafePointer<Float> { UnsafePointer(storage + start) }

    private func recount() {
        var sum = 0.0
        let window = samples
        for k in 0..<length { sum += Double(window[k]) * Double(window[k]) }
        energy = sum
    }
}
