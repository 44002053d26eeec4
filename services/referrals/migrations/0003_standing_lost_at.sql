-- When referrals first saw the customer out of good standing (NULL while in good standing).
-- Issue 6: a referred customer who later defaults lowers the weight of that voucher's *future*
-- vouches, so the moment matters.
ALTER TABLE members ADD COLUMN standing_lost_at_micros BIGINT;
