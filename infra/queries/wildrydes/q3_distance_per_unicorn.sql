-- Total distance each unicorn has travelled, in metres, over the whole archive.
SELECT name, SUM(distance) AS total_distance
FROM wildrydes
GROUP BY name
ORDER BY name
