/// A Binding Request (RFC 5389 §7.1): the header alone, no attributes.
/// No credentials or FINGERPRINT: a plain binding from a public STUN
/// server asks for neither, and its answer is checked by transaction ID.
public enum STUNBindingRequest {
    /// The request's bytes; `transactionID` is 12 random bytes.
    public static func bytes(transactionID: [UInt8]) -> [UInt8] {
        precondition(transactionID.count == STUNHeader.transactionIDSize)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(STUNHeader.size)
        STUNHeader.append(STUNHeader.bindingRequest, to: &bytes)
        STUNHeader.append(UInt16(0), to: &bytes)
        STUNHeader.append(STUNHeader.magicCookie, to: &bytes)
        bytes += transactionID
        return bytes
    }
}
