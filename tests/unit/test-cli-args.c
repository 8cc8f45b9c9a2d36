// SPDX-License-Identifier: GPL-2.0-or-later
/* What the operator types: strict numbers, names, and safe quoting of whatever they gave. */
#include "cli/cli_args.h"

#include <errno.h>

#include "macro.h"
#include "test.h"

TEST(parse_uint_takes_plain_decimals_in_range)
{
	uint64_t v = 7;

	ASSERT_OK(cli_parse_uint("0", 0, 10, &v));
	ASSERT_EQ(v, 0);
	ASSERT_OK(cli_parse_uint("300", 1, 60000, &v));
	ASSERT_EQ(v, 300);
	ASSERT_OK(cli_parse_uint("007", 0, 10, &v));
	ASSERT_EQ(v, 7);
	ASSERT_OK(cli_parse_uint("18446744073709551615", 0, UINT64_MAX, &v));
	ASSERT_TRUE(v == UINT64_MAX);
}

TEST(parse_uint_refuses_everything_else)
{
	static const char *const not_numbers[] = { "", "12abc", "-1", "+1", " 1", "1 ", "0x10",
						   "1e3", "1.5", "١", "1\n" };
	uint64_t v = 42;

	for (size_t i = 0; i < ELEMENTSOF(not_numbers); i++)
		ASSERT_ERRNO(cli_parse_uint(not_numbers[i], 0, UINT64_MAX, &v), EINVAL);
	ASSERT_ERRNO(cli_parse_uint(NULL, 0, 10, &v), EINVAL);
	ASSERT_ERRNO(cli_parse_uint("18446744073709551616", 0, UINT64_MAX, &v), ERANGE);
	ASSERT_ERRNO(cli_parse_uint("99999999999999999999999999999", 0, UINT64_MAX, &v), ERANGE);
	ASSERT_ERRNO(cli_parse_uint("0", 1, 10, &v), ERANGE);
	ASSERT_ERRNO(cli_parse_uint("11", 1, 10, &v), ERANGE);
	/* Outputs only on success. */
	ASSERT_EQ(v, 42);
}

TEST(quote_replaces_control_characters)
{
	char buf[CLI_QUOTE_SIZE];

	ASSERT_STREQ(cli_quote("vm1", buf, sizeof(buf)), "vm1");
	ASSERT_STREQ(cli_quote("a\033[2Jb\tc\x7f" "d", buf, sizeof(buf)), "a?[2Jb?c?d");
	/* U+009B is a CSI in UTF-8 terminals; U+00E9 is just a letter. */
	ASSERT_STREQ(cli_quote("x\xc2\x9b" "1m\xc3\xa9", buf, sizeof(buf)), "x?1m\xc3\xa9");
	ASSERT_STREQ(cli_quote("", buf, sizeof(buf)), "");
}

TEST(quote_cuts_long_values_and_says_how_long)
{
	char big[5000], buf[40];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cli_quote(big, buf, sizeof(buf));
	ASSERT_TRUE(strlen(buf) == sizeof(buf) - 1);
	ASSERT_TRUE(!strcmp(buf + strlen(buf) - strlen("... (4999 bytes)"), "... (4999 bytes)"));
	ASSERT_TRUE(!strncmp(buf, "aaaa", 4));

	/* Exactly fits: not cut. */
	memset(big, 'b', 39);
	big[39] = '\0';
	ASSERT_STREQ(cli_quote(big, buf, sizeof(buf)), big);
}

TEST(quote_never_splits_a_utf8_character)
{
	char text[200] = "", buf[32];
	size_t n;

	for (int i = 0; i < 60; i++)
		strcat(text, "\xc3\xa9"); /* é, two bytes each */
	for (size_t size = 20; size < sizeof(buf); size++) {
		cli_quote(text, buf, size);
		n = strcspn(buf, ".");
		/* Only whole characters before the "...": an even number of bytes. */
		ASSERT_EQ(n % 2, 0);
		ASSERT_TRUE(strstr(buf, "... (120 bytes)"));
	}
}

TEST(vm_names)
{
	char long_name[40];

	ASSERT_OK(cli_check_vm_name("vm1"));
	ASSERT_OK(cli_check_vm_name("web-2"));
	memset(long_name, 'a', 32);
	long_name[32] = '\0';
	ASSERT_OK(cli_check_vm_name(long_name));
	long_name[32] = 'a';
	long_name[33] = '\0';
	ASSERT_ERRNO(cli_check_vm_name(long_name), EINVAL);
	ASSERT_ERRNO(cli_check_vm_name(""), EINVAL);
	ASSERT_ERRNO(cli_check_vm_name("-vm"), EINVAL);
	ASSERT_ERRNO(cli_check_vm_name("VM1"), EINVAL);
	ASSERT_ERRNO(cli_check_vm_name("vm/1"), EINVAL);
	ASSERT_ERRNO(cli_check_vm_name("vm 1"), EINVAL);
}

TEST(host_names)
{
	char long_name[300];

	ASSERT_OK(cli_check_host_name("hostB"));
	ASSERT_OK(cli_check_host_name("host-b.example.org"));
	memset(long_name, 'h', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ASSERT_ERRNO(cli_check_host_name(long_name), EINVAL);
	ASSERT_ERRNO(cli_check_host_name(""), EINVAL);
	ASSERT_ERRNO(cli_check_host_name("--json"), EINVAL);
	ASSERT_ERRNO(cli_check_host_name("host B"), EINVAL);
	ASSERT_ERRNO(cli_check_host_name("host\nB"), EINVAL);
}

TEST(option_uint_converts_errors)
{
	uint64_t v = 5;

	ASSERT_OK(cli_option_uint("--multifd", "4", 0, 64, "channels", &v));
	ASSERT_EQ(v, 4);
	ASSERT_ERRNO(cli_option_uint("--multifd", "65", 0, 64, "channels", &v), EINVAL);
	ASSERT_ERRNO(cli_option_uint("--multifd", "4x", 0, 64, "channels", &v), EINVAL);
	ASSERT_EQ(v, 4);
}

int main(void)
{
	RUN_TEST(parse_uint_takes_plain_decimals_in_range);
	RUN_TEST(parse_uint_refuses_everything_else);
	RUN_TEST(quote_replaces_control_characters);
	RUN_TEST(quote_cuts_long_values_and_says_how_long);
	RUN_TEST(quote_never_splits_a_utf8_character);
	RUN_TEST(vm_names);
	RUN_TEST(host_names);
	RUN_TEST(option_uint_converts_errors);
	return 0;
}
