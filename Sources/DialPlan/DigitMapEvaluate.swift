/// What to do with the digits dialed so far.
public enum DialDecision: Equatable, Sendable {
    /// Call this number (the digits after the map's substitutions).
    case dialNow(String)
    /// The digits are a complete number but a longer one is still possible:
    /// run the short interdigit timer.
    case waitShort
    /// The digits can only be the start of a number: run the long interdigit timer.
    case waitLong
    /// Nothing can match (or a barred alternative matched).
    case reject
}

extension DigitMap {
    /// Decides what to do with `digits` (keys `0`-`9`, `*`, `#`, `A`-`D`,
    /// letters in either case; anything else is rejected). Pass
    /// `timerExpired: true` when the interdigit timer has run out.
    public func evaluate(_ digits: String, timerExpired: Bool) -> DialDecision {
        var digits = digits
        return digits.withUTF8 { evaluate(keys: $0, timerExpired: timerExpired) }
    }

    /// The same, for digits collected as ASCII bytes.
    public func evaluate(ascii digits: [UInt8], timerExpired: Bool) -> DialDecision {
        digits.withUnsafeBufferPointer { evaluate(keys: $0, timerExpired: timerExpired) }
    }

    /// One full match of an alternative, measured along the match that
    /// produced `number`.
    struct Match {
        var alternative: Int
        var number: [UInt8]
        /// Keys matched by an element that accepts more than one key.
        var wildcardKeys: Int
        /// Keys matched by a repeated (`.`) element.
        var repeatedKeys: Int

        func isMoreSpecific(than other: Match) -> Bool {
            if wildcardKeys != other.wildcardKeys { return wildcardKeys < other.wildcardKeys }
            if repeatedKeys != other.repeatedKeys { return repeatedKeys < other.repeatedKeys }
            return alternative < other.alternative
        }
    }

    func evaluate(keys all: UnsafeBufferPointer<UInt8>, timerExpired: Bool) -> DialDecision {
        for byte in all where DialSymbol.of(byte) == nil { return .reject }

        // A trailing '#' that no alternative takes means "dial now".
        var keys = all
        var timer = timerExpired
        if let last = all.last, last == UInt8(ascii: "#"), !anyAlternativeAlive(all) {
            keys = UnsafeBufferPointer(rebasing: all[0..<(all.count - 1)])
            timer = true
        }

        var longerPossible = false  // a plain, allowed alternative can take more keys
        var waiting = false         // an allowed alternative can still match later
        var bestPlain: Match? = nil
        var bestTimed: Match? = nil

        for index in alternatives.indices {
            let alternative = alternatives[index]
            let state = finalState(alternative, keys)
            if state == 0 { continue }
            let full = state & alternative.accept != 0
            let extendable = state & (alternative.accept &- 1) != 0
            if !alternative.barred {
                if extendable {
                    waiting = true
                    if !alternative.timerOnly { longerPossible = true }
                } else if full && alternative.timerOnly {
                    waiting = true
                }
            }
            guard full, timer || !alternative.timerOnly else { continue }
            let match = walk(index, keys)
            if match.number.isEmpty { continue }
            if alternative.timerOnly {
                if bestTimed.map({ match.isMoreSpecific(than: $0) }) ?? true { bestTimed = match }
            } else {
                if bestPlain.map({ match.isMoreSpecific(than: $0) }) ?? true { bestPlain = match }
            }
        }

        if let best = bestPlain {
            if !timer && longerPossible { return .waitShort }
            return decision(best)
        }
        if timer {
            if let best = bestTimed { return decision(best) }
            return .reject
        }
        return waiting ? .waitLong : .reject
    }

    func decision(_ match: Match) -> DialDecision {
        if alternatives[match.alternative].barred { return .reject }
        return .dialNow(String(decoding: match.number, as: UTF8.self))
    }

    func anyAlternativeAlive(_ keys: UnsafeBufferPointer<UInt8>) -> Bool {
        for alternative in alternatives where finalState(alternative, keys) != 0 {
            return true
        }
        return false
    }

    // MARK: Bit-parallel matching

    /// Key index of a byte already known to be valid.
    @inline(__always)
    static func key(_ byte: UInt8) -> Int {
        Int(DialSymbol.of(byte) ?? 0)
    }

    /// Adds the positions reachable by skipping repeated elements.
    @inline(__always)
    static func forwardClosure(_ state: UInt64, _ repeats: UInt64) -> UInt64 {
        var state = state
        while true {
            let next = state | ((state & repeats) &<< 1)
            if next == state { return state }
            state = next
        }
    }

    /// Adds the positions from which a set position is reachable by
    /// skipping repeated elements.
    @inline(__always)
    static func backwardClosure(_ state: UInt64, _ repeats: UInt64) -> UInt64 {
        var state = state
        while true {
            let next = state | (repeats & (state &>> 1))
            if next == state { return state }
            state = next
        }
    }

    /// The set of positions the alternative can be in after `keys`; zero
    /// when the keys cannot be a prefix of any match.
    func finalState(_ alternative: Alternative, _ keys: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let repeats = alternative.repeats
        var state = DigitMap.forwardClosure(1, repeats)
        for byte in keys {
            let moved = state & masks[alternative.maskBase + DigitMap.key(byte)]
            if moved == 0 { return 0 }
            state = DigitMap.forwardClosure((moved & repeats) | ((moved & ~repeats) &<< 1), repeats)
        }
        return state
    }

    /// Builds the number for a full match of `keys` by alternative `index`
    /// and measures it. The match taken is the one a backtracking matcher
    /// finds first: each repeated element takes as many keys as it can.
    func walk(_ index: Int, _ keys: UnsafeBufferPointer<UInt8>) -> Match {
        let alternative = alternatives[index]
        let repeats = alternative.repeats
        let base = alternative.maskBase
        let count = keys.count

        // completes[j] bit i: elements i... can match keys j... exactly.
        var completes = [UInt64](repeating: 0, count: count + 1)
        completes[count] = DigitMap.backwardClosure(alternative.accept, repeats)
        var j = count
        while j > 0 {
            j -= 1
            let after = completes[j + 1]
            let matching = masks[base + DigitMap.key(keys[j])]
            let consume = matching & ((repeats & after) | (~repeats & (after &>> 1)))
            completes[j] = DigitMap.backwardClosure(consume, repeats)
        }

        var match = Match(alternative: index, number: [], wildcardKeys: 0, repeatedKeys: 0)
        match.number.reserveCapacity(count + 4)
        var nextInsertion = 0
        func insert(at position: Int) {
            while nextInsertion < alternative.insertions.count,
                  alternative.insertions[nextInsertion].position == position {
                match.number.append(contentsOf: alternative.insertions[nextInsertion].text)
                nextInsertion += 1
            }
        }

        var position = 0
        j = 0
        insert(at: 0)
        while position < alternative.length {
            let bit: UInt64 = 1 &<< UInt64(position)
            let repeated = repeats & bit != 0
            if repeated {
                let canTake = j < count
                    && masks[base + DigitMap.key(keys[j])] & bit != 0
                    && completes[j + 1] & bit != 0
                if !canTake {
                    position += 1
                    insert(at: position)
                    continue
                }
            }
            if alternative.emits & bit != 0 {
                match.number.append(DialSymbol.ascii(UInt8(DigitMap.key(keys[j]))))
            }
            if alternative.wildcards & bit != 0 { match.wildcardKeys += 1 }
            if repeated {
                match.repeatedKeys += 1
            } else {
                position += 1
                insert(at: position)
            }
            j += 1
        }
        return match
    }
}
