/// A finite impulse response filter whose taps can adapt by normalised
/// least mean squares (NLMS): the model of an echo path. It holds only the
/// taps; the reference samples come from a `ReferenceWindow` of the same
/// length, so two filters (the echo canceller's adapting and its fixed
/// one) can share one window.
///
/// Both operations run over whole SIMD8 vectors; nothing allocates after
/// init.
public final class AdaptiveFIRFilter {
    public let length: Int
    let taps: UnsafeMutablePointer<Float>

    public init(length: Int) {
        precondition(length > 0 && length % 8 == 0, "AdaptiveFIRFilter: length must be a positive multiple of 8")
        self.length = length
        taps = .allocate(capacity: length)
        taps.initialize(repeating: 0, count: length)
    }

    deinit { taps.deallocate() }

    public func reset() { taps.update(repeating: 0, count: length) }

    /// Makes this filter's taps a copy of `other`'s.
    public func copy(from other: AdaptiveFIRFilter) {
        precondition(other.length == length, "AdaptiveFIRFilter: lengths differ")
        taps.update(from: other.taps, count: length)
    }

    /// The filter's output for the window's newest sample.
    @inline(__always)
    public func output(_ window: ReferenceWindow) -> Float {
        let x = UnsafeRawPointer(window.samples)
        let w = UnsafeRawPointer(taps)
        var sum = SIMD8<Float>()
        var offset = 0
        let bytes = length * 4
        while offset < bytes {
            sum += x.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                 * w.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            offset += 32
        }
        return sum.sum()
    }

    /// One NLMS step: moves the taps along the window by `step`, which the
    /// caller has already scaled (μ·error / (energy + δ)).
    @inline(__always)
    public func adapt(_ window: ReferenceWindow, step: Float) {
        let x = UnsafeRawPointer(window.samples)
        let w = UnsafeMutableRawPointer(taps)
        let gain = SIMD8<Float>(repeating: step)
        var offset = 0
        let bytes = length * 4
        while offset < bytes {
            let updated = w.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        + gain * x.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            w.storeBytes(of: updated, toByteOffset: offset, as: SIMD8<Float>.self)
            offset += 32
        }
    }

    /// The sum of the taps' magnitudes: how much louder than the loudest
    /// reference sample the filter's output can ever be.
    public var absoluteSum: Float {
        var sum: Float = 0
        for k in 0..<length { sum += abs(taps[k]) }
        return sum
    }
}
