/* Probe of spandsp 0.0.6 ADSI transmit behaviour (research-caller-id.md).
   gcc -o /tmp/adsi_probe adsi_probe.c -lspandsp -lm && /tmp/adsi_probe
   Writes class_spandsp.wav / clip_spandsp.wav / dtmf_spandsp.wav in the cwd. */
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <spandsp.h>

static void wav(const char *fn, const int16_t *a, int n)
{
    FILE *f = fopen(fn, "wb");
    int rate = 8000, bytes_per_s = 16000, data = n * 2, riff = 36 + data, fmt_len = 16;
    short pcm = 1, mono = 1, align = 2, bits = 16;
    fwrite("RIFF", 1, 4, f); fwrite(&riff, 4, 1, f); fwrite("WAVEfmt ", 1, 8, f);
    fwrite(&fmt_len, 4, 1, f); fwrite(&pcm, 2, 1, f); fwrite(&mono, 2, 1, f);
    fwrite(&rate, 4, 1, f); fwrite(&bytes_per_s, 4, 1, f); fwrite(&align, 2, 1, f);
    fwrite(&bits, 2, 1, f); fwrite("data", 1, 4, f); fwrite(&data, 4, 1, f);
    fwrite(a, 2, n, f); fclose(f);
}

/* Pull 20 ms chunks until adsi_tx comes up short; report the short call. */
static int drain(adsi_tx_state_t *tx, int16_t *out, int cap)
{
    int n = 0, r;
    while (n + 160 <= cap) {
        r = adsi_tx(tx, out + n, 160);
        n += r;
        if (r < 160) {
            printf("  short call returned %d; the next returns %d\n", r, adsi_tx(tx, out + n, 160));
            break;
        }
    }
    return n;
}

int main(void)
{
    static int16_t buf[80000];
    uint8_t msg[256];
    int len, n;
    adsi_tx_state_t st, *tx;

    tx = adsi_tx_init(&st, ADSI_STANDARD_CLASS);
    printf("defaults: seizure %d, marks %d, postamble %d, stop bits %d; state %zu bytes\n",
           st.preamble_len, st.preamble_ones_len, st.postamble_ones_len, st.stop_bits, sizeof st);
    n = drain(tx, buf, 80000);
    printf("adsi_tx with no message after init: %d samples of FSK\n", n);

    adsi_tx_set_preamble(tx, -1, 180, -1, -1);          /* GR-30 on-hook: 300 + 180 */
    len = adsi_add_field(tx, msg, -1, CLASS_MDMF_CALLERID, NULL, 0);
    len = adsi_add_field(tx, msg, len, MCLASS_DATETIME, (const uint8_t *) "03141526", 8);
    len = adsi_add_field(tx, msg, len, MCLASS_CALLER_NUMBER, (const uint8_t *) "5551234567", 10);
    len = adsi_add_field(tx, msg, len, MCLASS_CALLER_NAME, (const uint8_t *) "ALICE EXAMPLE", 13);
    n = adsi_tx_put_message(tx, msg, len);
    printf("put_message %d, again while busy %d\n", n, adsi_tx_put_message(tx, msg, len));
    n = drain(tx, buf, 80000);
    printf("CLASS MDMF: %d samples (%.1f ms)\n", n, n / 8.0);
    wav("class_spandsp.wav", buf, n);

    len = adsi_add_field(tx, msg, -1, CLASS_MDMF_CALLERID, NULL, 0);
    len = adsi_add_field(tx, msg, len, MCLASS_CALLER_NAME, (const uint8_t *) "SIXTEEN CHARS XX", 16);
    printf("16-byte field header: %02x %02x %02x (length byte doubled)\n", msg[2], msg[3], msg[4]);

    tx = adsi_tx_init(&st, ADSI_STANDARD_CLIP);
    len = adsi_add_field(tx, msg, -1, CLIP_MDMF_CALLERID, NULL, 0);
    len = adsi_add_field(tx, msg, len, CLIP_CALLTYPE, (const uint8_t *) "\x01", 1);
    len = adsi_add_field(tx, msg, len, CLIP_DATETIME, (const uint8_t *) "03141526", 8);
    len = adsi_add_field(tx, msg, len, CLIP_CALLER_NUMBER, (const uint8_t *) "01234567890", 11);
    adsi_tx_send_alert_tone(tx);                          /* 110 ms tone + 60 ms gap, then FSK */
    adsi_tx_put_message(tx, msg, len);
    n = drain(tx, buf, 80000);
    printf("DT-AS + CLIP: %d samples (%.1f ms)\n", n, n / 8.0);
    wav("clip_spandsp.wav", buf, n);

    tx = adsi_tx_init(&st, ADSI_STANDARD_CLIP_DTMF);
    len = adsi_add_field(tx, msg, -1, CLIP_DTMF_C_TERMINATED, NULL, 0);
    len = adsi_add_field(tx, msg, len, CLIP_DTMF_C_CALLER_NUMBER, (const uint8_t *) "0123456789", 10);
    adsi_tx_put_message(tx, msg, len);
    n = drain(tx, buf, 80000);
    printf("DTMF '%.*s': %d samples (%.1f ms)\n", len, msg, n, n / 8.0);
    wav("dtmf_spandsp.wav", buf, n);
    return 0;
}
