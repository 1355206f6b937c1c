import DialPlan
import XCTest

/// Random maps from the grammar, checked against a slow backtracking
/// reference matcher written straight from the rules, plus consistency
/// properties and parser fuzzing.
final class DigitMapRandomTests: XCTestCase {
    // MARK: Deterministic random numbers (SplitMix64)

    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    static let keyChars: [Character] = Array("0123456789*#ABCD")

    // MARK: Reference model

    struct Element {
        var keys: Set<Character>   // upper-case key characters
        var repeated: Bool
        var emits: Bool
    }
    enum Item {
        case element(Element)
        case insertion(String)
    }
    struct Alternative {
        var items: [Item]
        var timerOnly: Bool
        var barred: Bool
    }

    struct ReferenceMatch {
        var alternative: Int
        var number: String
        var wildcard: Int
        var repeated: Int
        func beats(_ other: ReferenceMatch) -> Bool {
            (wildcard, repeated, alternative) < (other.wildcard, other.repeated, other.alternative)
        }
    }

    /// First full match in backtracking order (a repeat tries to take a key first).
    static func firstMatch(_ items: [Item], _ i: Int, _ keys: [Character], _ j: Int,
                           _ acc: ReferenceMatch) -> ReferenceMatch? {
        if i == items.count { return j == keys.count ? acc : nil }
        switch items[i] {
        case .insertion(let text):
            var next = acc
            next.number += text
            return firstMatch(items, i + 1, keys, j, next)
        case .element(let element):
            var taken = acc
            if j < keys.count && element.keys.contains(keys[j]) {
                if element.emits { taken.number.append(keys[j]) }
                if element.keys.count > 1 { taken.wildcard += 1 }
                if element.repeated { taken.repeated += 1 }
            }
            if element.repeated {
                if j < keys.count && element.keys.contains(keys[j]),
                   let found = firstMatch(items, i, keys, j + 1, taken) {
                    return found
                }
                return firstMatch(items, i + 1, keys, j, acc)
            }
            guard j < keys.count && element.keys.contains(keys[j]) else { return nil }
            return firstMatch(items, i + 1, keys, j + 1, taken)
        }
    }

    /// Can the keys be consumed, ending where more keys could still be taken?
    static func extendable(_ items: [Item], _ i: Int, _ keys: [Character], _ j: Int) -> Bool {
        if j == keys.count {
            return items[i...].contains { if case .element = $0 { return true } else { return false } }
        }
        guard i < items.count else { return false }
        switch items[i] {
        case .insertion:
            return extendable(items, i + 1, keys, j)
        case .element(let element):
            let takes = element.keys.contains(keys[j])
            if element.repeated {
                return (takes && extendable(items, i, keys, j + 1)) || extendable(items, i + 1, keys, j)
            }
            return takes && extendable(items, i + 1, keys, j + 1)
        }
    }

    static func full(_ items: [Item], _ keys: [Character]) -> Bool {
        firstMatch(items, 0, keys, 0, ReferenceMatch(alternative: 0, number: "", wildcard: 0, repeated: 0)) != nil
    }

    static func reference(_ alternatives: [Alternative], _ digits: String, timer timerIn: Bool) -> DialDecision {
        let upper = Array(digits.uppercased())
        guard upper.allSatisfy({ keyChars.contains($0) }) else { return .reject }
        var keys = upper
        var timer = timerIn
        if keys.last == "#" && !alternatives.contains(where: {
            full($0.items, keys) || extendable($0.items, 0, keys, 0)
        }) {
            keys.removeLast()
            timer = true
        }
        var longer = false, waiting = false
        var bestPlain: ReferenceMatch? = nil, bestTimed: ReferenceMatch? = nil
        for (index, alternative) in alternatives.enumerated() {
            let canExtend = extendable(alternative.items, 0, keys, 0)
            let found = firstMatch(alternative.items, 0, keys, 0,
                                   ReferenceMatch(alternative: index, number: "", wildcard: 0, repeated: 0))
            if !alternative.barred {
                if canExtend {
                    waiting = true
                    if !alternative.timerOnly { longer = true }
                } else if found != nil && alternative.timerOnly {
                    waiting = true
                }
            }
            guard let match = found, !match.number.isEmpty, timer || !alternative.timerOnly else { continue }
            if alternative.timerOnly {
                if bestTimed.map({ match.beats($0) }) ?? true { bestTimed = match }
            } else {
                if bestPlain.map({ match.beats($0) }) ?? true { bestPlain = match }
            }
        }
        func decide(_ match: ReferenceMatch) -> DialDecision {
            alternatives[match.alternative].barred ? .reject : .dialNow(match.number)
        }
        if let best = bestPlain { return !timer && longer ? .waitShort : decide(best) }
        if timer { return bestTimed.map(decide) ?? .reject }
        return waiting ? .waitLong : .reject
    }

    // MARK: Generator

    static func space(_ rng: inout Random) -> String {
        rng.chance(10) ? rng.pick([" ", "  ", "\t", "\n"]) : ""
    }

    static func keyText(_ key: Character, _ rng: inout Random) -> String {
        if key.isLetter && rng.chance(50) { return key.lowercased() }
        return String(key)
    }

    /// One element: (text, keys).
    static func element(_ rng: inout Random, alphabet: [Character]) -> (String, Set<Character>) {
        switch rng.below(10) {
        case 0..<5:
            let key = rng.pick(alphabet)
            return (keyText(key, &rng), [key])
        case 5..<7:
            return (rng.chance(50) ? "x" : "X", Set("0123456789"))
        default:
            var text = "["
            var keys = Set<Character>()
            for _ in 0..<(1 + rng.below(3)) {
                text += space(&rng)
                switch rng.below(4) {
                case 0:
                    let a = rng.below(10), b = a + rng.below(10 - a)
                    text += "\(a)" + space(&rng) + "-" + space(&rng) + "\(b)"
                    for d in a...b { keys.insert(Character("\(d)")) }
                case 1:
                    let letters: [Character] = Array("ABCD")
                    let a = rng.below(4), b = a + rng.below(4 - a)
                    text += keyText(letters[a], &rng) + "-" + keyText(letters[b], &rng)
                    for l in a...b { keys.insert(letters[l]) }
                case 2 where rng.chance(30):
                    text += "x"
                    keys.formUnion("0123456789")
                default:
                    let key = rng.pick(alphabet)
                    text += keyText(key, &rng)
                    keys.insert(key)
                }
            }
            return (text + space(&rng) + "]", keys)
        }
    }

    static func alternative(_ rng: inout Random, alphabet: [Character]) -> (String, Alternative) {
        var text = ""
        var items: [Item] = []
        func addElements(count: Int, emits: Bool, rng: inout Random) {
            for _ in 0..<count {
                var (elementText, keys) = element(&rng, alphabet: alphabet)
                let repeated = rng.chance(25)
                if repeated { elementText += space(&rng) + "." }
                text += space(&rng) + elementText
                items.append(.element(Element(keys: keys, repeated: repeated, emits: emits)))
            }
        }
        for _ in 0..<(rng.below(5)) {
            if rng.chance(20) {
                text += space(&rng) + "<"
                addElements(count: rng.below(3), emits: false, rng: &rng)
                var inserted = ""
                for _ in 0..<rng.below(3) { inserted.append(rng.pick(keyChars)) }
                text += space(&rng) + ":" + inserted + space(&rng) + ">"
                items.append(.insertion(inserted))
            } else {
                addElements(count: 1, emits: true, rng: &rng)
            }
        }
        let hasElement = items.contains { if case .element = $0 { return true } else { return false } }
        let hasText = items.contains { if case .insertion(let s) = $0 { return !s.isEmpty } else { return false } }
        if !hasElement && !hasText {
            addElements(count: 1, emits: true, rng: &rng)
        }
        let timerOnly = rng.chance(25), barred = rng.chance(10)
        var marks = (timerOnly ? [rng.chance(50) ? "T" : "t"] : []) + (barred ? ["!"] : [])
        if rng.chance(50) { marks.reverse() }
        for mark in marks { text += space(&rng) + mark }
        return (text, Alternative(items: items, timerOnly: timerOnly, barred: barred))
    }

    static func map(_ rng: inout Random) -> (String, [Alternative]) {
        // A small alphabet per map makes matches likely.
        let alphabet = (0..<(2 + rng.below(4))).map { _ in rng.pick(keyChars) }
        var texts: [String] = []
        var alternatives: [Alternative] = []
        for _ in 0..<(1 + rng.below(4)) {
            let (text, alternative) = alternative(&rng, alphabet: alphabet)
            texts.append(text)
            alternatives.append(alternative)
        }
        var text = texts.joined(separator: space(&rng) + "|")
        if rng.chance(50) { text = "(" + text + space(&rng) + ")" }
        return (space(&rng) + text + space(&rng), alternatives)
    }

    /// Digits: a random member of some alternative (maybe cut short or
    /// extended), or random keys.
    static func digits(_ rng: inout Random, _ alternatives: [Alternative]) -> String {
        var out = ""
        if rng.chance(60) {
            for item in rng.pick(alternatives).items {
                guard case .element(let element) = item else { continue }
                let count = element.repeated ? rng.below(3) : 1
                for _ in 0..<count { out.append(rng.pick(element.keys.sorted())) }
            }
            if rng.chance(30) && !out.isEmpty { out.removeLast(1 + rng.below(out.count)) }
            if rng.chance(20) { out.append(rng.pick(keyChars)) }
        } else {
            for _ in 0..<rng.below(7) { out.append(rng.pick(keyChars)) }
        }
        if rng.chance(15) { out.append("#") }
        if rng.chance(10) { out = out.lowercased() }
        if rng.chance(2) { out.append("x") }
        return out
    }

    // MARK: Tests

    func testAgainstReferenceAndConsistency() throws {
        var rng = Random(state: 0xA7AD_D1A1)
        var compared = 0, dialed = 0
        for _ in 0..<3000 {
            let (text, alternatives) = Self.map(&rng)
            let map: DigitMap
            do {
                map = try DigitMap.parse(text)
            } catch {
                XCTFail("generated map \(text.debugDescription) failed: \(error.text)")
                continue
            }
            XCTAssertEqual(map.alternativeCount, alternatives.count, text)
            for _ in 0..<25 {
                let digits = Self.digits(&rng, alternatives)
                for timer in [false, true] {
                    let got = map.evaluate(digits, timerExpired: timer)
                    let want = Self.reference(alternatives, digits, timer: timer)
                    compared += 1
                    if got != want {
                        XCTFail("\(text.debugDescription) \"\(digits)\" timer=\(timer): got \(got), reference \(want)")
                        return
                    }
                }
                // Dialing without the timer must agree with dialing on it.
                if case .dialNow(let number) = map.evaluate(digits, timerExpired: false) {
                    dialed += 1
                    XCTAssertFalse(number.isEmpty)
                    XCTAssertEqual(map.evaluate(digits, timerExpired: true), .dialNow(number),
                                   "\(text) \(digits)")
                }
                // Without barring, once nothing can match nothing longer can.
                if !alternatives.contains(where: \.barred),
                   map.evaluate(digits, timerExpired: false) == .reject,
                   !digits.hasSuffix("#") {
                    let more = digits + String(rng.pick(Self.keyChars))
                    XCTAssertEqual(map.evaluate(more, timerExpired: false), .reject, "\(text) \(more)")
                }
            }
        }
        XCTAssertGreaterThan(dialed, 1000, "the generator should produce real matches")
        print("DigitMapRandomTests: \(compared) decisions compared, \(dialed) dialNow")
    }

    func testParserFuzzNeverCrashes() {
        var rng = Random(state: 0xF00D)
        let pool: [Character] = Array("0123456789xX*#ABCDabcd[]-<>:.|()Tt! éq")
        var parsed = 0
        for _ in 0..<20000 {
            var text = ""
            for _ in 0..<rng.below(16) { text.append(rng.pick(pool)) }
            do {
                let map = try DigitMap.parse(text)
                parsed += 1
                for _ in 0..<4 {
                    var digits = ""
                    for _ in 0..<rng.below(8) { digits.append(rng.pick(Self.keyChars)) }
                    _ = map.evaluate(digits, timerExpired: rng.chance(50))
                }
            } catch {
                XCTAssertGreaterThanOrEqual(error.column, 1, text)
                XCTAssertLessThanOrEqual(error.column, text.unicodeScalars.count + 1, text)
                XCTAssertFalse(error.message.isEmpty)
            }
        }
        XCTAssertGreaterThan(parsed, 100)
    }
}

