/*
 * check_code_objects.c - the checks a code object passes before the GPU
 * runtime sees it: the files this build made pass, and truncated, corrupt or
 * foreign files are refused with a reason.  Needs no GPU.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"
#include "harness.h"

static const char *files[] = {HIP_CODE_OBJECT_FILES};
#define NFILES ((int)(sizeof files / sizeof files[0]))

static unsigned char *slurp(const char *name, size_t *size)
{
    char path[2048];
    const char *dir = getenv("SAMPLE_KERNEL_PATH");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "kernels", name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)n);
    ck_assert_int_eq(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return data;
}

START_TEST(built_files_pass)
{
    size_t size;
    unsigned char *data = slurp(files[_i], &size);
    const char *why = gpu_code_object_check(data, size);
    ck_assert_msg(why == NULL, "%s: %s", files[_i], why);
    free(data);
}
END_TEST

START_TEST(truncated_files_fail)
{
    size_t size;
    unsigned char *data = slurp(files[_i], &size);
    size_t cuts[] = {0, 1, 15, 16, 63, 64, size / 2, size - 1};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        const char *why = gpu_code_object_check(data, cuts[c]);
        ck_assert_msg(why != NULL, "%s cut to %zu bytes passed", files[_i], cuts[c]);
        ck_assert_msg(strstr(why, "truncated") || cuts[c] < 64, "%s at %zu: %s", files[_i],
                      cuts[c], why);
    }
    free(data);
}
END_TEST

START_TEST(foreign_files_fail)
{
    size_t size;
    unsigned char *data = slurp(files[_i], &size);
    unsigned char *bad = malloc(size);
    uint64_t s = 42;
    for (size_t i = 0; i < size; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        bad[i] = (unsigned char)(s >> 56);
    }
    ck_assert_ptr_nonnull(gpu_code_object_check(bad, size)); /* noise */
    memcpy(bad, data, size);
    bad[0] ^= 0x55u;
    ck_assert_ptr_nonnull(gpu_code_object_check(bad, size)); /* wrong magic */
    memset(bad, 0, size); /* an ELF file of another machine (x86-64) */
    memcpy(bad, "\x7f" "ELF\x02\x01\x01", 7);
    bad[18] = 62;
    ck_assert_ptr_nonnull(gpu_code_object_check(bad, size));
    free(bad);
    free(data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("code objects");
    TCase *tc = tcase_create("checks");
    tcase_add_loop_test(tc, built_files_pass, 0, NFILES);
    tcase_add_loop_test(tc, truncated_files_fail, 0, NFILES);
    tcase_add_loop_test(tc, foreign_files_fail, 0, NFILES);
    suite_add_tcase(s, tc);
    return harness_run(s);
}
