/// Adds two 16-bit signals sample by sample into `output`, clipping at
/// full scale rather than wrapping (a wrapped sum is a loud click). The
/// three buffers may be the same one; only the shortest length is mixed.
public func mixSaturating(_ first: UnsafeBufferPointer<Int16>, _ second: UnsafeBufferPointer<Int16>,
                          into output: UnsafeMutableBufferPointer<Int16>) {
    let count = min(first.count, second.count, output.count)
    for index in 0..<count {
        output[index] = Int16(clamping: Int32(first[index]) + Int32(second[index]))
    }
}
