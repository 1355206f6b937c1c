import CompactText

/// Why a session description was refused, and on which line.
///
/// `line` is 1-based and counts physical lines (blank ones included); it is 0
/// when the problem concerns the whole input (for example its size).
public struct SDPError: Error, Equatable, Sendable {
    public enum Reason: Equatable, Sendable {
        /// The input is larger than `SDPLimits.maxBytes`.
        case tooLarge
        case tooManyLines
        case lineTooLong
        case tooManyMediaSections
        case tooManyFormats
        case tooManyAttributes
        /// A line is not `<letter>=<value>`.
        case malformedLine
        /// A NUL or a bare CR inside a line.
        case invalidCharacter
        /// The first line is not `v=`.
        case missingVersion
        case unsupportedVersion
        case missingOrigin
        case malformedOrigin
        /// `v=`, `o=`, `s=` or `t=` repeated, or found inside a media section.
        case unexpectedLine
        case malformedConnection
        /// An address type other than IP4 or IP6, or a network type other than IN.
        case unsupportedAddressType
        case badAddress
        /// A media section with a non-zero port and no `c=` at either level.
        case missingConnection
        case malformedTiming
        case malformedMedia
        case badPort
        /// A format of an RTP media line that is not a number 0...127.
        case badPayloadType
        case badRTPMap
        case badFormatParameters
        case badPtime
        case badRTCP
    }

    public var line: Int
    public var reason: Reason

    public init(line: Int, reason: Reason) {
        self.line = line
        self.reason = reason
    }

    /// `line 4: bad port`, for logs.
    public var message: String {
        let text: String
        switch reason {
        case .tooLarge: text = "session description too large"
        case .tooManyLines: text = "too many lines"
        case .lineTooLong: text = "line too long"
        case .tooManyMediaSections: text = "too many media sections"
        case .tooManyFormats: text = "too many formats in m= line"
        case .tooManyAttributes: text = "too many attributes"
        case .malformedLine: text = "malformed line (expected <type>=<value>)"
        case .invalidCharacter: text = "invalid character"
        case .missingVersion: text = "missing v= line"
        case .unsupportedVersion: text = "unsupported SDP version"
        case .missingOrigin: text = "missing o= line"
        case .malformedOrigin: text = "malformed o= line"
        case .unexpectedLine: text = "unexpected or repeated line"
        case .malformedConnection: text = "malformed c= line"
        case .unsupportedAddressType: text = "unsupported network or address type"
        case .badAddress: text = "bad address"
        case .missingConnection: text = "missing c= line for media"
        case .malformedTiming: text = "malformed t= line"
        case .malformedMedia: text = "malformed m= line"
        case .badPort: text = "bad port"
        case .badPayloadType: text = "bad RTP payload type"
        case .badRTPMap: text = "bad a=rtpmap"
        case .badFormatParameters: text = "bad a=fmtp"
        case .badPtime: text = "bad a=ptime or a=maxptime"
        case .badRTCP: text = "bad a=rtcp"
        }
        return line > 0 ? "line \(line): \(text)" : text
    }
}

/// Bounds on what the parser accepts, so that a hostile peer cannot make it
/// allocate without limit.
public struct SDPLimits: Equatable, Sendable {
    public var maxBytes: Int
    public var maxLines: Int
    public var maxLineLength: Int
    public var maxMediaSections: Int
    /// Formats listed on one `m=` line.
    public var maxFormats: Int
    /// Attributes in one section (the session part, or one media section).
    public var maxAttributes: Int

    public init(maxBytes: Int = 16_384, maxLines: Int = 512, maxLineLength: Int = 1_024,
                maxMediaSections: Int = 16, maxFormats: Int = 64, maxAttributes: Int = 128) {
        self.maxBytes = maxBytes
        self.maxLines = maxLines
        self.maxLineLength = maxLineLength
        self.maxMediaSections = maxMediaSections
        self.maxFormats = maxFormats
        self.maxAttributes = maxAttributes
    }
}
