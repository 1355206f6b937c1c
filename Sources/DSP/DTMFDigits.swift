/// The digits one call to `DTMFDetector.process(_:)` found, in order, held
/// inline (no allocation per audio frame).
///
/// A digit takes at least four consecutive detector blocks 6.4 ms apart
/// (25.5 ms), so a frame of up to ~400 ms cannot hold more than `capacity`;
/// longer inputs should use the closure form of `process`, which has no
/// limit. Digits past the capacity are counted in `overflow`.
public struct DTMFDigits: Sequence, Equatable, Sendable {
    public static let capacity = 16

    private var low: UInt64 = 0
    private var high: UInt64 = 0
    public private(set) var count = 0
    /// Digits detected but not stored because the capacity was reached.
    public private(set) var overflow = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public mutating func append(_ digit: DTMFDigit) {
        guard count < DTMFDigits.capacity else {
            overflow += 1
            return
        }
        let shift = UInt64((count % 8) * 8)
        if count < 8 {
            low |= UInt64(digit.rawValue) << shift
        } else {
            high |= UInt64(digit.rawValue) << shift
        }
        count += 1
    }

    public subscript(position: Int) -> DTMFDigit {
        precondition(position >= 0 && position < count, "DTMFDigits index out of range")
        let word = position < 8 ? low : high
        let byte = UInt8(truncatingIfNeeded: word >> UInt64((position % 8) * 8))
        return DTMFDigit(rawValue: byte)!
    }

    public struct Iterator: IteratorProtocol {
        let digits: DTMFDigits
        var position = 0
        public mutating func next() -> DTMFDigit? {
            guard position < digits.count else { return nil }
            defer { position += 1 }
            return digits[position]
        }
    }

    public func makeIterator() -> Iterator { Iterator(digits: self) }
}
