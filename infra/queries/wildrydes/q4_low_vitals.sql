-- Every data point where a unicorn's health or magic was below 100 points.
-- 100 is the workshop's threshold, the functions' default VITALS_THRESHOLD.
SELECT name, statustime, healthpoints, magicpoints, latitude, longitude
FROM wildrydes
WHERE healthpoints < 100 OR magicpoints < 100
ORDER BY statustime, name
