import CompactText

/// Why a digit map does not parse, and where.
///
/// `column` is 1-based and counts Unicode scalars from the start of the map
/// text exactly as it was given (whitespace and line breaks included), so a
/// config loader that knows where the value starts can print
/// `FILE:LINE:COL: error: MESSAGE`. A problem at the very end of the text is
/// reported one column past its last character.
public struct DigitMapError: Error, Equatable, Sendable {
    public var column: Int
    public var message: String

    public init(column: Int, message: String) {
        self.column = column
        self.message = message
    }

    /// `COL: MESSAGE`, for logs and tests.
    public var text: String { "\(column): \(message)" }
}
