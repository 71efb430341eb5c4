// The byte layout of Unimodem's device configuration for the device class
// "comm/datamodem" (lineGetDevConfig / lineSetDevConfig): UMDEVCFG, a
// DEVCFGHDR followed by a COMMCONFIG (winbase.h) whose DCB describes the DTE
// side and whose provider data is a MODEMSETTINGS (mcx.h).
//
// These are Windows' naturally aligned structures, not TAPI's packed ones,
// and the DCB's flags are bit-fields, so the TSP reads and writes them as
// little-endian bytes at these offsets instead of declaring the types
// (which windows.h declares too). abi/abi_conformance.cc proves every
// offset and size against mingw-w64's winbase.h and mcx.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace linebridge::unimodem {

// DEVCFGHDR: { DWORD dwSize; DWORD dwVersion; WORD fwOptions; WORD wWaitBong; }
inline constexpr size_t kHdrSize = 12;
inline constexpr size_t kHdrDwSize = 0;
inline constexpr size_t kHdrDwVersion = 4;
inline constexpr size_t kHdrFwOptions = 8;
inline constexpr size_t kHdrWWaitBong = 10;
inline constexpr uint32_t kMdmCfgVersion = 0x00010003;  // MDMCFG_VERSION
// fwOptions
inline constexpr uint16_t kTerminalPre = 0x0001;
inline constexpr uint16_t kTerminalPost = 0x0002;
inline constexpr uint16_t kManualDial = 0x0004;
inline constexpr uint16_t kLaunchLights = 0x0008;

// DCB (winbase.h), 28 bytes.
inline constexpr size_t kDcbSize = 28;
inline constexpr size_t kDcbDCBlength = 0;
inline constexpr size_t kDcbBaudRate = 4;
inline constexpr size_t kDcbFlags = 8;  // the DWORD of bit-fields fBinary..fDummy2
inline constexpr size_t kDcbWReserved = 12;
inline constexpr size_t kDcbXonLim = 14;
inline constexpr size_t kDcbXoffLim = 16;
inline constexpr size_t kDcbByteSize = 18;
inline constexpr size_t kDcbParity = 19;
inline constexpr size_t kDcbStopBits = 20;
inline constexpr size_t kDcbXonChar = 21;
inline constexpr size_t kDcbXoffChar = 22;
// Bits of the flags DWORD.
inline constexpr uint32_t kDcbFBinary = 1u << 0;
inline constexpr uint32_t kDcbFParity = 1u << 1;
inline constexpr uint32_t kDcbFOutxCtsFlow = 1u << 2;
inline constexpr uint32_t kDcbFOutxDsrFlow = 1u << 3;
inline constexpr uint32_t kDcbFDtrControlShift = 4;  // 2 bits: DTR_CONTROL_*
inline constexpr uint32_t kDcbFOutX = 1u << 8;
inline constexpr uint32_t kDcbFInX = 1u << 9;
inline constexpr uint32_t kDcbFRtsControlShift = 12;  // 2 bits: RTS_CONTROL_*
inline constexpr uint32_t kDtrControlEnable = 1;
inline constexpr uint32_t kRtsControlEnable = 1;
inline constexpr uint32_t kRtsControlHandshake = 2;
// Parity and StopBits values.
inline constexpr uint8_t kNoParity = 0, kOddParity = 1, kEvenParity = 2, kMarkParity = 3,
                         kSpaceParity = 4;
inline constexpr uint8_t kOneStopBit = 0, kOne5StopBits = 1, kTwoStopBits = 2;

// COMMCONFIG (winbase.h): 52 bytes with its one WCHAR of provider data.
inline constexpr size_t kCommConfigSize = 52;
inline constexpr size_t kCcDwSize = 0;
inline constexpr size_t kCcWVersion = 4;
inline constexpr size_t kCcWReserved = 6;
inline constexpr size_t kCcDcb = 8;
inline constexpr size_t kCcDwProviderSubType = 36;
inline constexpr size_t kCcDwProviderOffset = 40;
inline constexpr size_t kCcDwProviderSize = 44;
inline constexpr size_t kCcWcProviderData = 48;
inline constexpr uint32_t kPstModem = 0x00000006;  // PST_MODEM

// MODEMSETTINGS (mcx.h): 48 bytes with its one byte of variable portion.
inline constexpr size_t kModemSettingsSize = 48;
inline constexpr size_t kMsDwActualSize = 0;
inline constexpr size_t kMsDwRequiredSize = 4;
inline constexpr size_t kMsDwDevSpecificOffset = 8;
inline constexpr size_t kMsDwDevSpecificSize = 12;
inline constexpr size_t kMsDwCallSetupFailTimer = 16;
inline constexpr size_t kMsDwInactivityTimeout = 20;
inline constexpr size_t kMsDwSpeakerVolume = 24;
inline constexpr size_t kMsDwSpeakerMode = 28;
inline constexpr size_t kMsDwPreferredModemOptions = 32;
inline constexpr size_t kMsDwNegotiatedModemOptions = 36;
inline constexpr size_t kMsDwNegotiatedDCERate = 40;
inline constexpr size_t kMsAbVariablePortion = 44;
// The fixed part a reader needs (everything before abVariablePortion).
inline constexpr size_t kModemSettingsFixed = 44;
// MDMVOL_*, MDMSPKR_*, MDM_* (mcx.h).
inline constexpr uint32_t kMdmVolLow = 0, kMdmVolMedium = 1, kMdmVolHigh = 2;
inline constexpr uint32_t kMdmSpkrOff = 0, kMdmSpkrDial = 1, kMdmSpkrOn = 2,
                          kMdmSpkrCallSetup = 3;
inline constexpr uint32_t kMdmCompression = 0x00000001;
inline constexpr uint32_t kMdmErrorControl = 0x00000002;
inline constexpr uint32_t kMdmForcedEc = 0x00000004;
inline constexpr uint32_t kMdmFlowControlHard = 0x00000010;
inline constexpr uint32_t kMdmFlowControlSoft = 0x00000020;
inline constexpr uint32_t kMdmBlindDial = 0x00000200;

// The UMDEVCFG the TSP writes: header, COMMCONFIG up to its provider data,
// MODEMSETTINGS right after (dwProviderOffset = kCcWcProviderData).
inline constexpr size_t kUmDevCfgCommConfig = kHdrSize;
inline constexpr size_t kUmDevCfgModemSettings = kHdrSize + kCcWcProviderData;
inline constexpr size_t kUmDevCfgSize = kUmDevCfgModemSettings + kModemSettingsSize;  // 108

}  // namespace linebridge::unimodem
