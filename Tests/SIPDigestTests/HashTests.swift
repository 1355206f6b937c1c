import SIPDigest
import XCTest

/// The EVP wrapper against published test vectors (RFC 1321, FIPS 180-4).
final class HashTests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(Hash.hex(.md5, ""), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(Hash.hex(.md5, "abc"), "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(Hash.hex(.sha256, "abc"),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Hash.hex(.sha512_256, "abc"),
                       "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23")
    }

    func testIncrementalEqualsOneShot() {
        var hash = Hash(.sha256)
        hash.update("a")
        hash.update([UInt8(ascii: "b")])
        hash.update(byte: UInt8(ascii: "c"))
        let incremental = hash.finalizeHex()
        XCTAssertEqual(incremental, Hash.hex(.sha256, "abc"))
        XCTAssertEqual(Hash.hex(.md5, joining: "a", "b", "c"), Hash.hex(.md5, "a:b:c"))
        XCTAssertEqual(Hash.hex(.md5, joining: "only"), Hash.hex(.md5, "only"))
        XCTAssertEqual(Hash.hex(.md5, bytes: Array("abc".utf8)), Hash.hex(.md5, "abc"))
    }

    func testDigestLengths() {
        XCTAssertEqual(Hash.hex(.md5, "x").utf8.count, 32)
        XCTAssertEqual(Hash.hex(.sha256, "x").utf8.count, 64)
        XCTAssertEqual(Hash.hex(.sha512_256, "x").utf8.count, 64)
    }

    func testClientNonceIsRandomLowercaseHex() {
        let first = ClientNonce.generate()
        let second = ClientNonce.generate()
        XCTAssertEqual(first.utf8.count, 32)
        XCTAssertNotEqual(first, second)
        XCTAssertTrue(first.utf8.allSatisfy { ("0"..."9").contains(Character(UnicodeScalar($0)))
            || ("a"..."f").contains(Character(UnicodeScalar($0))) })
        XCTAssertEqual(ClientNonce.generate(byteCount: 4).utf8.count, 8)
    }
}
