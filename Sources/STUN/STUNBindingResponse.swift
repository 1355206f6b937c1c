/// What a Binding response says (RFC 5389 §7.3.3, §15.1, §15.2).
public enum STUNBindingResponse: Equatable, Sendable {
    /// A success response: XOR-MAPPED-ADDRESS, or from an RFC 3489 server
    /// that has only the older MAPPED-ADDRESS, that one.
    case mapped(STUNMappedAddress)
    /// An error response, or a success without a usable address.
    case refused

    static let mappedAddressType: UInt16 = 0x0001
    static let xorMappedAddressType: UInt16 = 0x0020

    /// Reads `bytes` as the answer to the request with `transactionID`;
    /// nil when it is not one (another transaction, not STUN, malformed).
    public static func parse(_ bytes: UnsafeRawBufferPointer, transactionID: [UInt8]) -> STUNBindingResponse? {
        guard STUNHeader.isSTUN(bytes) else { return nil }
        let type = STUNHeader.readUInt16(bytes, at: 0)
        let length = Int(STUNHeader.readUInt16(bytes, at: 2))
        guard type == STUNHeader.bindingSuccess || type == STUNHeader.bindingError,
              length % 4 == 0, STUNHeader.size + length <= bytes.count else { return nil }
        for index in 0..<STUNHeader.transactionIDSize where bytes[8 + index] != transactionID[index] { return nil }
        guard type == STUNHeader.bindingSuccess else { return .refused }
        var offset = STUNHeader.size
        let end = STUNHeader.size + length
        var plain: STUNMappedAddress?
        while offset + 4 <= end {
            let attribute = STUNHeader.readUInt16(bytes, at: offset)
            let valueLength = Int(STUNHeader.readUInt16(bytes, at: offset + 2))
            let value = offset + 4
            guard value + valueLength <= end else { return .refused }
            if attribute == xorMappedAddressType,
               let found = address(bytes, at: value, length: valueLength, xorWith: xorKey(transactionID)) {
                return .mapped(found)
            }
            if attribute == mappedAddressType, plain == nil {
                plain = address(bytes, at: value, length: valueLength, xorWith: nil)
            }
            // Values are padded to a multiple of four bytes.
            offset = value + (valueLength + 3) & ~3
        }
        return plain.map { .mapped($0) } ?? .refused
    }

    /// The cookie then the transaction ID: what XOR-MAPPED-ADDRESS's
    /// port (first two bytes) and address (4 or all 16 bytes) are XORed with.
    private static func xorKey(_ transactionID: [UInt8]) -> [UInt8] {
        var key: [UInt8] = []
        STUNHeader.append(STUNHeader.magicCookie, to: &key)
        return key + transactionID
    }

    /// An address attribute's value: reserved byte, family (1 IPv4,
    /// 2 IPv6), port, address.
    private static func address(_ bytes: UnsafeRawBufferPointer, at offset: Int, length: Int,
                                xorWith key: [UInt8]?) -> STUNMappedAddress? {
        guard length >= 4 else { return nil }
        let size: Int
        switch bytes[offset + 1] {
        case 1: size = 4
        case 2: size = 16
        default: return nil
        }
        guard length >= 4 + size else { return nil }
        var port = STUNHeader.readUInt16(bytes, at: offset + 2)
        var address = Array(bytes[(offset + 4)..<(offset + 4 + size)])
        if let key {
            port ^= UInt16(key[0]) << 8 | UInt16(key[1])
            for index in address.indices { address[index] ^= key[index] }
        }
        return STUNMappedAddress(addressBytes: address, port: port)
    }
}
