// Request-Line and Status-Line (RFC 3261 §7.1, §7.2).
// Liberal where RFC 4475 allows it: runs of SP between elements and trailing
// SP after the version are accepted (lwsstart, trws).

enum SIPStartLineParser {
    enum Result {
        case success(SIPStartLine)
        /// A request whose line is malformed but whose method and version could
        /// be read: the headers are still worth reading to answer 400.
        case badButAnswerable(SIPStartLine)
        case failure(SIPParseError.Kind)
    }

    static func parse(_ bytes: [UInt8], _ line: Range<Int>) -> Result {
        // Split on runs of SP.
        var fields: [Range<Int>] = []
        var i = line.lowerBound
        while i < line.upperBound {
            while i < line.upperBound && bytes[i] == SIPByte.sp { i += 1 }
            if i == line.upperBound { break }
            let s = i
            while i < line.upperBound && bytes[i] != SIPByte.sp { i += 1 }
            fields.append(s..<i)
            if fields.count == 2 && isVersion(bytes[fields[0]]) { break }
        }
        guard let firstField = fields.first else { return .failure(.badStartLine) }

        if isVersion(bytes[firstField]) {
            // Status-Line: version SP 3DIGIT SP reason (reason may be empty).
            guard fields.count == 2 else { return .failure(.badStatusCode) }
            let codeRange = fields[1]
            guard codeRange.count == 3, let code = bytes[codeRange].decimalValue(limit: 999) else {
                return .failure(.badStatusCode)
            }
            var r = codeRange.upperBound
            if r < line.upperBound { r += 1 }   // the SP after the code
            var e = line.upperBound
            while e > r && (bytes[e - 1] == SIPByte.sp || bytes[e - 1] == SIPByte.tab) { e -= 1 }
            let status = SIPStatusLine(versionRange: firstField, statusCode: Int(code), reasonRange: r..<e)
            return .success(.response(status))
        }

        // Request-Line: method SP Request-URI SP version.
        guard bytes[firstField].isToken else { return .failure(.badStartLine) }
        guard fields.count >= 3, let last = fields.last, isVersion(bytes[last]) else {
            return .failure(.badStartLine)
        }
        let method = SIPMethod(bytes[firstField])
        let uriRange = fields[1].lowerBound..<fields[fields.count - 2].upperBound
        let request = SIPRequestLine(method: method, methodRange: firstField, uriRange: uriRange, versionRange: last)
        if fields.count != 3 { return .badButAnswerable(.request(request)) }
        return .success(.request(request))
    }

    /// `SIP/1*DIGIT.1*DIGIT`, "SIP" in any case.
    static func isVersion(_ field: ArraySlice<UInt8>) -> Bool {
        guard field.count >= 7 else { return false }
        let s = field.startIndex
        guard SIPByte.lower(field[s]) == 0x73, SIPByte.lower(field[s + 1]) == 0x69,
              SIPByte.lower(field[s + 2]) == 0x70, field[s + 3] == SIPByte.slash else { return false }
        var sawDot = false
        var digitsBefore = 0
        var digitsAfter = 0
        for c in field[(s + 4)...] {
            if c == 0x2E && !sawDot {
                sawDot = true
            } else if SIPByte.isDigit(c) {
                if sawDot { digitsAfter += 1 } else { digitsBefore += 1 }
            } else {
                return false
            }
        }
        return sawDot && digitsBefore > 0 && digitsAfter > 0
    }
}
