package emulation

// The probe programs below each do write(1, msg, n) then exit_group(0).
// Every instruction is spelled out with its assembly; the tests run each
// program under the matching qemu-<target>-static.

func codeX8664(_, msg uint64, n int) []byte {
	b := []byte{0xbf, 1, 0, 0, 0} // mov edi, 1
	b = append(b, 0xbe)           // mov esi, msg
	b = le.AppendUint32(b, uint32(msg))
	b = append(b, 0xba) // mov edx, n
	b = le.AppendUint32(b, uint32(n))
	return append(b,
		0xb8, 1, 0, 0, 0, // mov eax, 1 (write)
		0x0f, 0x05, // syscall
		0x31, 0xff, // xor edi, edi
		0xb8, 231, 0, 0, 0, // mov eax, 231 (exit_group)
		0x0f, 0x05) // syscall
}

func codeI386(_, msg uint64, n int) []byte {
	b := []byte{0xbb, 1, 0, 0, 0} // mov ebx, 1
	b = append(b, 0xb9)           // mov ecx, msg
	b = le.AppendUint32(b, uint32(msg))
	b = append(b, 0xba) // mov edx, n
	b = le.AppendUint32(b, uint32(n))
	return append(b,
		0xb8, 4, 0, 0, 0, // mov eax, 4 (write)
		0xcd, 0x80, // int 0x80
		0x31, 0xdb, // xor ebx, ebx
		0xb8, 252, 0, 0, 0, // mov eax, 252 (exit_group)
		0xcd, 0x80) // int 0x80
}

func codeAArch64(_, msg uint64, n int) []byte {
	movz := func(rd, imm uint32) uint32 { return 0xd2800000 | imm<<5 | rd }
	movk16 := func(rd, imm uint32) uint32 { return 0xf2a00000 | imm<<5 | rd } // movk rd, #imm, lsl 16
	const svc0 = 0xd4000001
	return words(le,
		movz(0, 1),                  // mov x0, #1
		movz(1, uint32(msg&0xffff)), // movz x1, #msg[15:0]
		movk16(1, uint32(msg>>16)),  // movk x1, #msg[31:16], lsl 16
		movz(2, uint32(n)),          // mov x2, #n
		movz(8, 64),                 // mov x8, #64 (write)
		svc0,                        // svc #0
		movz(0, 0),                  // mov x0, #0
		movz(8, 94),                 // mov x8, #94 (exit_group)
		svc0)                        // svc #0
}

// codeARM is ARM (A32) code valid on ARMv5 and later: no movw/movt, the
// message address is pc-relative.
func codeARM(pc, msg uint64, n int) []byte {
	mov := func(rd, imm uint32) uint32 { return 0xe3a00000 | rd<<12 | imm&0xff }
	adr := uint32(msg-(pc+4+8)) & 0xff // add r1, pc, #imm: pc reads as this instruction + 8
	const svc0 = 0xef000000
	return words(le,
		mov(0, 1),         // mov r0, #1
		0xe28f1000|adr,    // add r1, pc, #(msg - .-8)
		mov(2, uint32(n)), // mov r2, #n
		mov(7, 4),         // mov r7, #4 (write)
		svc0,              // svc #0
		mov(0, 0),         // mov r0, #0
		mov(7, 248),       // mov r7, #248 (exit_group)
		svc0)              // svc #0
}

func codePPC64(_, msg uint64, n int) []byte {
	li := func(rd, imm uint32) uint32 { return 0x38000000 | rd<<21 | imm&0xffff }
	const sc = 0x44000002
	return words(le,
		li(0, 4),                      // li r0, 4 (write)
		li(3, 1),                      // li r3, 1
		0x3c800000|uint32(msg>>16),    // lis r4, msg@h
		0x60840000|uint32(msg&0xffff), // ori r4, r4, msg@l
		li(5, uint32(n)),              // li r5, n
		sc,                            // sc
		li(0, 234),                    // li r0, 234 (exit_group)
		li(3, 0),                      // li r3, 0
		sc)                            // sc
}

func codeS390X(pc, msg uint64, n int) []byte {
	b := []byte{0xa7, 0x29, 0, 1, 0xc0, 0x30} // lghi %r2, 1; larl %r3, msg
	b = be.AppendUint32(b, uint32(int32(msg-(pc+4))/2))
	return append(b,
		0xa7, 0x49, 0, byte(n), // lghi %r4, n
		0x0a, 4, // svc 4 (write)
		0xa7, 0x29, 0, 0, // lghi %r2, 0
		0x0a, 248) // svc 248 (exit_group)
}

func codeRISCV64(_, msg uint64, n int) []byte {
	addi := func(rd, rs, imm uint32) uint32 { return (imm&0xfff)<<20 | rs<<15 | rd<<7 | 0x13 }
	hi := uint32((msg + 0x800) >> 12)
	lo := uint32(msg - uint64(hi)<<12)
	const ecall = 0x00000073
	return words(le,
		addi(10, 0, 1),         // li a0, 1
		hi<<12|11<<7|0x37,      // lui a1, %hi(msg)
		addi(11, 11, lo),       // addi a1, a1, %lo(msg)
		addi(12, 0, uint32(n)), // li a2, n
		addi(17, 0, 64),        // li a7, 64 (write)
		ecall,                  // ecall
		addi(10, 0, 0),         // li a0, 0
		addi(17, 0, 94),        // li a7, 94 (exit_group)
		ecall)                  // ecall
}

// codeMIPS64 returns n64 ABI code in the given byte order.
func codeMIPS64(order byteOrder) func(pc, msg uint64, n int) []byte {
	return func(_, msg uint64, n int) []byte {
		ori := func(rt, rs, imm uint32) uint32 { return 13<<26 | rs<<21 | rt<<16 | imm&0xffff }
		const syscall = 0x0000000c
		return words(order,
			ori(4, 0, 1),                 // li $a0, 1
			15<<26|5<<16|uint32(msg>>16), // lui $a1, %hi(msg)
			ori(5, 5, uint32(msg)),       // ori $a1, $a1, %lo(msg)
			ori(6, 0, uint32(n)),         // li $a2, n
			ori(2, 0, 5001),              // li $v0, 5001 (write)
			syscall,                      // syscall
			ori(4, 0, 0),                 // li $a0, 0
			ori(2, 0, 5205),              // li $v0, 5205 (exit_group)
			syscall)                      // syscall
	}
}

func codeLoong64(_, msg uint64, n int) []byte {
	ori := func(rd, rj, imm uint32) uint32 { return 0x03800000 | (imm&0xfff)<<10 | rj<<5 | rd }
	const syscall0 = 0x002b0000
	return words(le,
		ori(4, 0, 1), // li.w $a0, 1
		0x14000000|uint32(msg>>12)&0xfffff<<5|5, // lu12i.w $a1, msg>>12
		ori(5, 5, uint32(msg)),                  // ori $a1, $a1, msg&0xfff
		ori(6, 0, uint32(n)),                    // li.w $a2, n
		ori(11, 0, 64),                          // li.w $a7, 64 (write)
		syscall0,                                // syscall 0
		ori(4, 0, 0),                            // li.w $a0, 0
		ori(11, 0, 94),                          // li.w $a7, 94 (exit_group)
		syscall0)                                // syscall 0
}
