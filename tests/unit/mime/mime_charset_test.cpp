#include <gtest/gtest.h>

#include "relay/mime.hpp"

using relay::mime::decode_header;
using relay::mime::to_utf8;

TEST(Charset, ConvertsLatin1AndWindows1252) {
  EXPECT_EQ(to_utf8("Caf\xE9", "iso-8859-1"), "Caf\xC3\xA9");
  EXPECT_EQ(to_utf8("\x80 5", "windows-1252"), "\xE2\x82\xAC 5");
  EXPECT_EQ(to_utf8("\xFC", "ISO-8859-15"), "\xC3\xBC");
}

TEST(Charset, ConvertsStatefulAndMultibyteCharsets) {
  // "日本" in ISO-2022-JP and in Shift_JIS
  EXPECT_EQ(to_utf8("\x1B$BF|K\\\x1B(B", "iso-2022-jp"), "\xE6\x97\xA5\xE6\x9C\xAC");
  EXPECT_EQ(to_utf8("\x93\xFA\x96\x7B", "shift_jis"), "\xE6\x97\xA5\xE6\x9C\xAC");
  EXPECT_EQ(to_utf8("\xC7\xD1", "ks_c_5601-1987"), "\xED\x95\x9C");  // 한
}

TEST(Charset, ReplacesWhatDoesNotConvert) {
  EXPECT_EQ(to_utf8("a\xFF" "b", "utf-8"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(to_utf8("\xC0\xAF", "utf-8"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_EQ(to_utf8("\xED\xA0\x80", "utf-8"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(to_utf8("ok\x81", "shift_jis"), "ok\xEF\xBF\xBD");
}

TEST(Charset, UnknownCharsetIsReadAsUtf8) {
  EXPECT_EQ(to_utf8("\xC3\xA9t\xC3\xA9", "x-no-such-charset"), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(to_utf8("plain", ""), "plain");
  EXPECT_EQ(to_utf8("\xE9", "\"ISO-8859-1\""), "\xC3\xA9");
  EXPECT_EQ(to_utf8("\xE9", "iso-8859-1*fr"), "\xC3\xA9");  // RFC 2231 language suffix
}

TEST(EncodedWords, DecodesBAndQ) {
  EXPECT_EQ(decode_header("=?UTF-8?B?5pys5pel?="), "\xE6\x9C\xAC\xE6\x97\xA5");
  EXPECT_EQ(decode_header("=?iso-8859-1?q?Caf=E9_cr=E8me?="), "Caf\xC3\xA9 cr\xC3\xA8me");
  EXPECT_EQ(decode_header("=?UTF-8?Q?Abwesenheitsnotiz:_Juni?="), "Abwesenheitsnotiz: Juni");
}

TEST(EncodedWords, DropsSpaceBetweenAdjacentWordsOnly) {
  EXPECT_EQ(decode_header("=?US-ASCII?Q?a?= =?US-ASCII?Q?b?="), "ab");
  EXPECT_EQ(decode_header("=?US-ASCII?Q?a?=\r\n =?US-ASCII?Q?b?="), "ab");
  EXPECT_EQ(decode_header("Re: =?US-ASCII?Q?a?= and =?US-ASCII?Q?b?="), "Re: a and b");
}

TEST(EncodedWords, LeavesMalformedWordsAsWritten) {
  EXPECT_EQ(decode_header("=?utf-8?X?abc?="), "=?utf-8?X?abc?=");
  EXPECT_EQ(decode_header("=?utf-8?Q?never closed"), "=?utf-8?Q?never closed");
  EXPECT_EQ(decode_header("=??Q?x?="), "=??Q?x?=");
  EXPECT_EQ(decode_header("price =? 5"), "price =? 5");
}

TEST(EncodedWords, ConvertsEachWordFromItsCharset) {
  EXPECT_EQ(decode_header("=?ISO-2022-JP?B?GyRCRnxLXBsoQg==?= =?iso-8859-1?Q?=E9?="),
            "\xE6\x97\xA5\xE6\x9C\xAC\xC3\xA9");
}
