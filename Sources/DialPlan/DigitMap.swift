/// A dial plan ("digit map"), as on Cisco SPA and Grandstream ATAs: it says
/// when the digits a caller has dialed so far form a number to call, and
/// which number (after substitutions) that is.
///
/// Syntax (whitespace anywhere is ignored; letters are case-insensitive):
///
///     (911 | [2-9]xxxxxx | 1[2-9]xx[2-9]xxxxxx | *xx | x.T)
///
/// - The whole map may be wrapped in one pair of parentheses.
/// - `|` separates alternatives; none may be empty.
/// - `0`-`9`, `*`, `#`, `A`-`D` match that key.
/// - `x` matches any digit `0`-`9`.
/// - `[...]` matches one key from a set: keys, `x`, and ranges of digits or
///   of letters such as `[2-9]` or `[13-5*#]`. Ranges go upward.
/// - `.` after a key, `x` or set repeats it zero or more times: `x.` is any
///   number of digits, `xx.` is one or more.
/// - `<from:to>` rewrites: the keys matched by `from` (any elements,
///   possibly none) are left out of the number and the literal keys `to`
///   (possibly none) are put in their place. `<9:>xxxxxxx` strips a
///   leading 9, `<:1>xxx` inserts a 1, `<8:1650>xxxxxxx` turns 8 into 1650.
///   An alternative with no elements but an insertion, such as `<:911>`,
///   is a hotline: it matches before any key is dialed.
/// - `T` at the end of an alternative: it only matches once the interdigit
///   timer has expired (`x.T` = any digits, dialed after the long timeout).
/// - `!` at the end of an alternative bars it: a full match is rejected
///   (`1900xxxxxxx!`). `T` and `!` may be combined, in either order.
///
/// Matching (`evaluate`):
/// - an alternative without `T` that matches the digits fully dials them
///   at once unless another alternative without `T` or `!` could still match
///   more digits; then the short interdigit timer runs (`waitShort`);
/// - if the digits are only the start of some alternative (a barred one does
///   not count), the long interdigit timer runs (`waitLong`);
/// - when the timer has expired, the best full match dials; alternatives
///   with `T` count only when no alternative without `T` matches;
/// - among several full matches the most specific wins: fewest keys matched
///   by a wildcard (`x` or a set of more than one key), then fewest keys
///   matched by a repetition, then the earliest alternative. If the winner is
///   barred the digits are rejected;
/// - a match that would dial an empty number is no match;
/// - a trailing `#` that no alternative can take ends dialing: the digits
///   before it are evaluated as if the timer had expired.
public struct DigitMap: Equatable, Sendable {
    /// One alternative, compiled to bit masks: bit `i` of a state stands for
    /// "before element `i`", bit `length` for "after the last element".
    struct Alternative: Equatable, Sendable {
        /// Number of elements (at most `DigitMap.maximumElements`).
        var length: Int
        /// Elements followed by `.`.
        var repeats: UInt64
        /// Elements whose keys go into the dialed number (those outside `<from:`).
        var emits: UInt64
        /// Elements that match more than one key.
        var wildcards: UInt64
        var timerOnly: Bool
        var barred: Bool
        /// Texts to put into the number when the match reaches an element
        /// position, in position order.
        var insertions: [Insertion]
        /// Index of this alternative's 16 per-key masks in `DigitMap.masks`.
        var maskBase: Int

        var accept: UInt64 { 1 &<< UInt64(length) }
    }

    struct Insertion: Equatable, Sendable {
        var position: Int
        /// ASCII bytes.
        var text: [UInt8]
    }

    /// Most elements one alternative may have (one state bit each, plus one).
    public static let maximumElements = 63

    /// The map text exactly as given to `parse`.
    public let text: String
    var alternatives: [Alternative]
    /// For alternative `a` and key `k`: `masks[a.maskBase + k]` has bit `i`
    /// set when element `i` of `a` matches `k`.
    var masks: [UInt64]

    /// Number of `|`-separated alternatives.
    public var alternativeCount: Int { alternatives.count }

    init(text: String, alternatives: [Alternative], masks: [UInt64]) {
        self.text = text
        self.alternatives = alternatives
        self.masks = masks
    }

    /// Any keys `0`-`9` and `*`, dialed when the interdigit timer expires or
    /// the caller presses `#`: `([x*].T)`.
    public static let anything: DigitMap = {
        do throws(DigitMapError) {
            return try DigitMap.parse("([x*].T)")
        } catch {
            fatalError("DigitMap.anything does not parse")
        }
    }()
}
