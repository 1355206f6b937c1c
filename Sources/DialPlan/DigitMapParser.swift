import CompactText

extension DigitMap {
    /// Parses a digit map (syntax in the `DigitMap` documentation).
    public static func parse(_ text: String) throws(DigitMapError) -> DigitMap {
        var parser = DigitMapParser(text: text)
        return try parser.parseMap()
    }
}

/// Recursive descent over the UTF-8 bytes of the map text.
struct DigitMapParser {
    let text: String
    let bytes: [UInt8]
    var index = 0
    var alternatives: [DigitMap.Alternative] = []
    var masks: [UInt64] = []

    init(text: String) {
        self.text = text
        self.bytes = Array(text.utf8)
    }

    // MARK: Cursor

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// 1-based column of byte offset `offset`, counted in Unicode scalars.
    func column(_ offset: Int) -> Int {
        var column = 1
        var i = 0
        while i < offset && i < bytes.count {
            if bytes[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        if offset > bytes.count { column += offset - bytes.count }
        return column
    }

    /// The whole character (Unicode scalar) starting at byte offset `offset`.
    func character(_ offset: Int) -> String {
        var end = offset + 1
        while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    func fail(_ message: String, at offset: Int) -> DigitMapError {
        DigitMapError(column: column(offset), message: message)
    }

    func unexpected(at offset: Int) -> DigitMapError {
        fail("unexpected character '\(character(offset))'", at: offset)
    }

    // MARK: Map

    mutating func parseMap() throws(DigitMapError) -> DigitMap {
        skipSpace()
        var openParen: Int? = nil
        if peek == UInt8(ascii: "(") {
            openParen = index
            index += 1
        }
        while true {
            try parseAlternative()
            if peek == UInt8(ascii: "|") {
                index += 1
                continue
            }
            break
        }
        if peek == UInt8(ascii: ")") {
            guard openParen != nil else { throw fail("unmatched ')'", at: index) }
            index += 1
            skipSpace()
            if !atEnd { throw unexpected(at: index) }
        } else if let open = openParen {
            throw fail("unclosed '('", at: open)
        }
        return DigitMap(text: text, alternatives: alternatives, masks: masks)
    }

    // MARK: Alternative

    /// Parses one alternative, stopping before `|`, `)` or the end.
    mutating func parseAlternative() throws(DigitMapError) {
        skipSpace()
        let start = index
        var sets: [UInt16] = []
        var repeats: UInt64 = 0
        var emits: UInt64 = 0
        var insertions: [DigitMap.Insertion] = []
        var canRepeat = false
        var substitution: Int? = nil       // offset of an open '<'
        var replacement: [UInt8]? = nil    // after its ':'
        var timerAt: Int? = nil
        var barredAt: Int? = nil

        while true {
            skipSpace()
            guard let byte = peek else { break }
            if byte == UInt8(ascii: "|") || byte == UInt8(ascii: ")") { break }
            let isTimer = byte == UInt8(ascii: "T") || byte == UInt8(ascii: "t")
            let isBar = byte == UInt8(ascii: "!")

            if !isTimer && !isBar {
                if let first = firstOf(timerAt, barredAt) {
                    let mark = first == timerAt ? "T" : "!"
                    throw fail("'\(mark)' must end an alternative", at: first)
                }
            }

            if replacement != nil {
                if byte == UInt8(ascii: ">") {
                    insertions.append(DigitMap.Insertion(position: sets.count, text: replacement!))
                    replacement = nil
                    substitution = nil
                    canRepeat = false
                    index += 1
                } else if let symbol = DialSymbol.of(byte) {
                    replacement!.append(DialSymbol.ascii(symbol))
                    index += 1
                } else {
                    throw unexpected(at: index)
                }
                continue
            }

            if let symbol = DialSymbol.of(byte) {
                try addElement(1 &<< UInt16(symbol), &sets, &emits, substitution == nil, at: index)
                canRepeat = true
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "x"), UInt8(ascii: "X"):
                try addElement(DialSymbol.allDigits, &sets, &emits, substitution == nil, at: index)
                canRepeat = true
                index += 1
            case UInt8(ascii: "["):
                let at = index
                let set = try parseSet()
                try addElement(set, &sets, &emits, substitution == nil, at: at)
                canRepeat = true
            case UInt8(ascii: "."):
                guard canRepeat else { throw fail("'.' must follow an element", at: index) }
                repeats |= 1 &<< UInt64(sets.count - 1)
                canRepeat = false
                index += 1
            case UInt8(ascii: "<"):
                if let open = substitution { throw fail("unclosed '<'", at: open) }
                substitution = index
                canRepeat = false
                index += 1
            case UInt8(ascii: ":"):
                guard substitution != nil else { throw fail("':' outside '<...>'", at: index) }
                replacement = []
                canRepeat = false
                index += 1
            case UInt8(ascii: ">"):
                if substitution == nil { throw fail("unmatched '>'", at: index) }
                throw fail("missing ':' in '<...>'", at: index)
            case UInt8(ascii: "]"):
                throw fail("unmatched ']'", at: index)
            case UInt8(ascii: "T"), UInt8(ascii: "t"):
                if let open = substitution { throw fail("unclosed '<'", at: open) }
                if timerAt != nil { throw fail("duplicate 'T'", at: index) }
                timerAt = index
                index += 1
            case UInt8(ascii: "!"):
                if let open = substitution { throw fail("unclosed '<'", at: open) }
                if barredAt != nil { throw fail("duplicate '!'", at: index) }
                barredAt = index
                index += 1
            default:
                throw unexpected(at: index)
            }
        }

        if let open = substitution { throw fail("unclosed '<'", at: open) }
        if sets.isEmpty && !insertions.contains(where: { !$0.text.isEmpty }) {
            let wholeMap = alternatives.isEmpty && peek != UInt8(ascii: "|")
            throw fail(wholeMap ? "empty dial plan" : "empty alternative", at: start)
        }

        var wildcards: UInt64 = 0
        let base = masks.count
        for _ in 0..<16 { masks.append(0) }
        for (i, set) in sets.enumerated() {
            let bit: UInt64 = 1 &<< UInt64(i)
            if set & (set &- 1) != 0 { wildcards |= bit }
            for key in 0..<16 where set & (1 &<< UInt16(key)) != 0 {
                masks[base + key] |= bit
            }
        }
        alternatives.append(DigitMap.Alternative(
            length: sets.count, repeats: repeats, emits: emits, wildcards: wildcards,
            timerOnly: timerAt != nil, barred: barredAt != nil,
            insertions: insertions, maskBase: base))
    }

    func firstOf(_ a: Int?, _ b: Int?) -> Int? {
        switch (a, b) {
        case let (a?, b?): return min(a, b)
        case let (a?, nil): return a
        case let (nil, b?): return b
        default: return nil
        }
    }

    func addElement(_ set: UInt16, _ sets: inout [UInt16], _ emits: inout UInt64,
                    _ emit: Bool, at offset: Int) throws(DigitMapError) {
        guard sets.count < DigitMap.maximumElements else {
            throw fail("alternative too long (more than \(DigitMap.maximumElements) elements)", at: offset)
        }
        if emit { emits |= 1 &<< UInt64(sets.count) }
        sets.append(set)
    }

    // MARK: Set

    /// Parses `[...]` starting at the `[`; leaves the cursor after the `]`.
    mutating func parseSet() throws(DigitMapError) -> UInt16 {
        let open = index
        index += 1
        var set: UInt16 = 0
        while true {
            skipSpace()
            guard let byte = peek, byte != UInt8(ascii: "|"), byte != UInt8(ascii: ")") else {
                throw fail("unclosed '['", at: open)
            }
            if byte == UInt8(ascii: "]") {
                index += 1
                if set == 0 { throw fail("empty set '[]'", at: open) }
                return set
            }
            if byte == UInt8(ascii: "x") || byte == UInt8(ascii: "X") {
                set |= DialSymbol.allDigits
                index += 1
                continue
            }
            if byte == UInt8(ascii: "-") { throw rangeError(at: index) }
            guard let low = DialSymbol.of(byte) else { throw unexpected(at: index) }
            let lowAt = index
            index += 1
            skipSpace()
            guard peek == UInt8(ascii: "-") else {
                set |= 1 &<< UInt16(low)
                continue
            }
            let dash = index
            index += 1
            skipSpace()
            guard let next = peek, let high = DialSymbol.of(next),
                  (DialSymbol.isDigit(low) && DialSymbol.isDigit(high))
                    || (DialSymbol.isLetter(low) && DialSymbol.isLetter(high)) else {
                throw rangeError(at: dash)
            }
            if high < low {
                throw fail("range must go upward: [\(character(lowAt))-\(character(index))]", at: lowAt)
            }
            for key in low...high { set |= 1 &<< UInt16(key) }
            index += 1
        }
    }

    func rangeError(at offset: Int) -> DigitMapError {
        fail("'-' must be between two digits or two letters A-D", at: offset)
    }
}
